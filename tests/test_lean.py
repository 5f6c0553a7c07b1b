"""The query path stays lean: importing cchc, `cchc search` and `cchc serve` load no torch or sentence-transformers.

Checked in fresh interpreters (the test process itself has loaded torch for
the reference encodings), over the data directory built once per session.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

HEAVY = ("torch", "sentence_transformers", "transformers", "bm25s", "scipy")

_PROBE = """
import json, sys
{body}
print(json.dumps(sorted({{m.split(".")[0] for m in sys.modules}} & set({heavy!r}))))
"""


def _heavy_modules_after(body: str) -> list[str]:
    code = _PROBE.format(body=body, heavy=HEAVY)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_importing_cchc_loads_nothing_heavy() -> None:
    body = ("import cchc, cchc.service.cli, cchc.service.application, cchc.search.searcher, "
            "cchc.embeddings, cchc.graph.sparql.runner")
    assert _heavy_modules_after(body) == []


@pytest.mark.slow
def test_cchc_search_loads_no_torch(data_dir: Path) -> None:
    body = (f"from cchc.service.cli import main\n"
            f"assert main(['search', 'hạn chót hoàn thành năm 2023', '--json', '--data', {str(data_dir)!r}]) == 0")
    assert _heavy_modules_after(body) == []


@pytest.mark.slow
def test_cchc_serve_loads_no_torch(data_dir: Path) -> None:
    body = (f"from pathlib import Path\n"
            f"from fastapi.testclient import TestClient\n"
            f"from cchc.service.app import create_app\n"
            f"from cchc.service.settings import Settings\n"
            f"with TestClient(create_app(Settings(data_dir=Path({str(data_dir)!r}))),\n"
            f"                base_url='http://localhost') as client:\n"  # a host the loopback service answers
            f"    r = client.get('/search', params={{'q': 'nghi dinh 118', 'k': 3}})\n"
            f"    assert r.status_code == 200 and r.json()['results'], r.text\n"
            f"    assert client.get('/sparql', params={{'query': 'ASK {{}}'}}).status_code == 200")
    assert _heavy_modules_after(body) == []
