"""The package layout: every folder with Python code is installed under `cchc`."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NOT_PACKAGES = {"tests", "bench", "notebooks", "scripts", ".venv", "var", "data", "build", ".git", ".ci"}


def test_every_code_folder_is_in_the_package_list():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    packages, dirs = set(cfg["packages"]), cfg["package-dir"]
    mapped = {Path(d).as_posix(): name for name, d in dirs.items()}
    missing = []
    for init in ROOT.rglob("*.py"):
        rel = init.parent.relative_to(ROOT)
        top = rel.parts[0] if rel.parts else ""
        if not top or top in NOT_PACKAGES or top.startswith(".") or top.endswith(".egg-info"):
            continue
        top = rel.parts[0]
        if top not in mapped:
            missing.append(f"{rel} (folder {top}/ not mapped in package-dir)")
            continue
        name = ".".join([mapped[top], *rel.parts[1:]])
        if name not in packages:
            missing.append(f"{rel} -> {name}")
    assert not missing, f"folders with Python code missing from [tool.setuptools] packages: {sorted(set(missing))}"


def test_no_top_level_generic_imports():
    """Code imports `cchc.graph`, never a bare `graph` that would shadow other packages."""
    offenders = []
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if rel.parts[0] in {".venv", "build"} or rel.parts[0].endswith(".egg-info"):
            continue
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1):
            s = line.strip()
            for top in ("graph", "embeddings", "search", "ontology", "service"):
                if s.startswith((f"import {top}", f"from {top} ", f"from {top}.")):
                    offenders.append(f"{rel}:{n}: {s}")
    assert not offenders, offenders


def test_package_imports_without_torch():
    """Commands that do not encode must not pay for torch."""
    import subprocess
    import sys

    code = (
        "import sys; import cchc.graph.extract, cchc.service.cli; "
        "assert 'torch' not in sys.modules, 'torch imported'; "
        "assert 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
