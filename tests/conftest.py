"""Shared fixtures: the embedded corpus, read once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "data" / "corpus"
SHARED = ROOT.parent / "shared"

APPENDIX_2023 = "langson-2023-cchc-phuluc.txt"
APPENDIX_2026 = "langson-2026-cchc-phuluc.txt"
PAPI_2023 = "langson-2023-papi-sipas-parindex.txt"
PLAN_2026_2030 = "langson-2026-2030-cchc.txt"
TANDOAN_2025 = "tandoan-2025-cchc.txt"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    return CORPUS


@pytest.fixture(scope="session")
def extractions():
    """Every corpus document extracted once: {file name: Extraction}."""
    from cchc.graph.corpus import corpus_files, load_manifest
    from cchc.graph.extract import extract_file

    manifest = load_manifest(CORPUS)
    return {p.name: extract_file(p, manifest.get(p.name)) for p in corpus_files(CORPUS)}
