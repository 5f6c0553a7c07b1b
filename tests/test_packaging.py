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


def _imports(path: Path) -> set[str]:
    """Every module a file imports, at the top or inside a function, relative imports resolved."""
    import ast

    rel = path.relative_to(ROOT).with_suffix("")
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    top = {Path(d).as_posix(): name for name, d in cfg.items()}[rel.parts[0]]
    parts = [*top.split("."), *rel.parts[1:]]
    package = parts if parts[-1] == "__init__" else parts[:-1]
    package = [p for p in package if p != "__init__"]
    out: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.Import):
            out.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            mod = ".".join([*base, *([node.module] if node.module else [])])
            out.add(mod)
            out.update(f"{mod}.{a.name}" for a in node.names)
    return out


# (modules under this prefix, may not import modules under these prefixes, why)
LAYERS = [
    ("cchc.ontology", ("cchc.graph", "cchc.embeddings", "cchc.search", "cchc.service"), "the ontology is the bottom"),
    ("cchc.graph", ("cchc.embeddings", "cchc.search", "cchc.service"), "dependencies run one way"),
    ("cchc.graph.extract", ("cchc.graph.rdf", "cchc.graph.read", "cchc.graph.sparql"),
     "extraction knows records, not triples, the store or the read side"),
    ("cchc.graph.rdf", ("cchc.graph.read", "cchc.graph.sparql"), "the store does not depend on its readers"),
    ("cchc.graph.sparql", ("cchc.graph.read",), "the query runner needs only the store's files"),
    ("cchc.embeddings", ("cchc.search", "cchc.service"), "dependencies run one way"),
    ("cchc.search", ("cchc.service", "cchc.graph.rdf", "cchc.graph.read", "cchc.graph.sparql"),
     "search reads records (graph.extract) and the manifest (graph.corpus); graph answers reach it as Links"),
]
HTTP = ("fastapi", "starlette", "uvicorn", "httptools", "h11")


def _modules() -> list[tuple[str, Path]]:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"]
    out = []
    for name, folder in cfg.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            rel = path.relative_to(ROOT / folder).with_suffix("")
            parts = [p for p in rel.parts if p != "__init__"]
            out.append((".".join([name, *parts]), path))
    return out


def test_layers_import_one_way():
    """Extraction, store, read side, search and service depend downwards only; only service/ speaks HTTP."""
    bad = []
    for name, path in _modules():
        imported = _imports(path)
        for prefix, forbidden, why in LAYERS:
            if name == prefix or name.startswith(prefix + "."):
                bad += [f"{name} imports {i} ({why})" for i in imported
                        if any(i == f or i.startswith(f + ".") for f in forbidden)]
        if not name.startswith("cchc.service"):
            bad += [f"{name} imports {i} (only service/ speaks HTTP)" for i in imported
                    if i.split(".")[0] in HTTP]
    assert not bad, "\n".join(sorted(set(bad)))
