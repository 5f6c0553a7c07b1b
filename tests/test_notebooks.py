"""Every notebook in notebooks/ runs top to bottom on the session's data directory and draws its figures.

The notebooks are the planner's view of the library; running them here is
what keeps them from rotting.  Each runs in a temporary copy of notebooks/,
offline, with CCHC_DATA_DIR on the session's built data directory and
CCHC_FIGURES_DIR on a temporary folder, in a kernel started from this
interpreter (a kernel spec written for the test, so a user's own "python3"
spec pointing elsewhere cannot interfere).
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from .conftest import ROOT

NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_PNG = 300_000
KERNEL = "cchc-test-python"


def test_the_four_notebooks_are_there_and_committed_without_outputs():
    assert [p.stem for p in NOTEBOOKS] == ["01_corpus_overview", "02_citation_network", "03_search_and_trace",
                                           "04_carryover"]
    for path in NOTEBOOKS:
        nb = json.loads(path.read_text("utf-8"))
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(not c["outputs"] and c["execution_count"] is None for c in code), f"{path.name}: strip outputs"
        source = "".join("".join(c["source"]) for c in code)
        assert "Application(Settings.from_env())" in source and "ensure_built(" in source, path.name
        assert "CCHC_FIGURES_DIR" in source, path.name
        assert any(c["cell_type"] == "markdown" and "What to notice" in "".join(c["source"]) for c in nb["cells"])
    for png in (NOTEBOOK_DIR / "figures").glob("*.png"):
        assert png.stat().st_size < MAX_PNG, f"{png.name}: committed figures stay under 300 KB"


@pytest.fixture(scope="module")
def kernel_dir(tmp_path_factory) -> Path:
    """A kernel spec that starts ipykernel with this interpreter (the venv's)."""
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "cchc tests", "language": "python"}), "utf-8")
    return root


@pytest.mark.slow
@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_draws(notebook, data_dir, kernel_dir, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    work = tmp_path / "notebooks"
    shutil.copytree(NOTEBOOK_DIR, work, ignore=shutil.ignore_patterns("figures", ".ipynb_checkpoints"))
    figures = tmp_path / "figures"
    monkeypatch.setenv("JUPYTER_PATH", str(kernel_dir))
    monkeypatch.setenv("CCHC_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CCHC_FIGURES_DIR", str(figures))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")  # whatever the caller's is
    nb = nbformat.read(work / notebook.name, as_version=4)
    client = NotebookClient(nb, kernel_name=KERNEL, timeout=600, allow_errors=False,
                            resources={"metadata": {"path": str(work)}})
    client.execute()  # a failing cell raises CellExecutionError naming the cell
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
    assert not errors
    pngs = sorted(figures.glob("*.png"))
    assert pngs, f"{notebook.name} saved no figure"
    for png in pngs:
        assert png.name.startswith(notebook.stem[:3]), png.name  # each notebook names its figures after itself
        assert png.read_bytes()[:8] == PNG_MAGIC
        assert 5_000 < png.stat().st_size < MAX_PNG, png.name
    assert not list(work.glob("figures/*.png")), "figures must follow CCHC_FIGURES_DIR"
