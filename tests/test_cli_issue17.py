"""The CLI as people use it (issue 17): quiet by default, --json, full width when piped, help that explains,
filters without a question, one clear line for a missing file, and `serve` saying where it listens."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time

import pytest
from cchc.service.cli import main

from .conftest import CORPUS, TANDOAN_2025


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def cchc(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """The installed command in a child process, its output piped (not a terminal), CCHC_* unset."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    return subprocess.run([sys.executable, "-m", "cchc.service.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env=env)


def test_search_json_has_ids_total_and_nothing_on_stderr(data_dir):
    p = cchc("search", "nhiệm vụ theo Nghị định 118", "--json", "--data", str(data_dir))
    assert p.returncode == 0, p.stderr
    assert p.stderr == ""  # quiet by default: no progress bars, no DEBUG lines
    body = json.loads(p.stdout)
    assert body["total"] == len(body["results"]) > 0
    assert "langson-2026-cchc-phuluc/III.9" in {r["id"] for r in body["results"]}


def test_search_nonsense_says_so_and_exits_0(data_dir, capsys):
    code, out, _ = run(["search", "xyzzy qwerty", "--data", str(data_dir)], capsys)
    assert code == 0 and "no result answers" in out
    code, out, _ = run(["search", "xyzzy qwerty", "--json", "--data", str(data_dir)], capsys)
    assert json.loads(out)["results"] == [] and json.loads(out)["total"] == 0


def test_piped_tables_are_not_cut_at_80_columns(data_dir):
    p = cchc("search", "QĐ 282", "--data", str(data_dir))
    assert p.returncode == 0, p.stderr
    assert "langson-2026-2030-cchc.txt:113" in p.stdout  # the file name whole, on one line
    assert max(len(line) for line in p.stdout.splitlines()) > 80


def test_filters_without_a_question_and_paging(data_dir, capsys):
    code, out, _ = run(["search", "--agency", "Sở Nội vụ", "--deadline-year", "2026", "--json", "--data",
                        str(data_dir)], capsys)
    body = json.loads(out)
    assert code == 0 and body["total"] > 0 and body["results"]
    code, out, _ = run(["search", "--agency", "Sở Nội vụ", "--deadline-year", "2026", "--json", "--k", "2",
                        "--offset", "2", "--data", str(data_dir)], capsys)
    page2 = json.loads(out)
    assert page2["offset"] == 2 and page2["total"] == body["total"]
    assert [r["id"] for r in page2["results"]] == [r["id"] for r in body["results"][2:4]]
    code, _, err = run(["search", "--data", str(data_dir)], capsys)
    assert code == 2 and "filter" in err  # neither a question nor a filter
    code, _, err = run(["search", "x", "--deadline", "mùa xuân", "--data", str(data_dir)], capsys)
    assert code == 2 and err.count("\n") == 1 and "deadline" in err


def test_search_help_explains_the_query_and_filters(capsys):
    with pytest.raises(SystemExit):
        main(["search", "--help"])
    out = capsys.readouterr().out
    for words in ("Nghị định 118", "chủ trì", "quý I/2026", "weak", "--agency", "--deadline", "--offset", "--json"):
        assert words in out, words


def test_sparql_missing_file_is_one_line_exit_2(data_dir, capsys):
    code, out, err = run(["sparql", "--file", "/nonexistent/q.rq", "--data", str(data_dir)], capsys)
    assert code == 2 and out == "" and err.count("\n") == 1 and "/nonexistent/q.rq" in err
    assert "Traceback" not in err


def test_lineage_of_an_abolished_agency_counts_its_tasks_and_where_they_went(data_dir, capsys):
    code, out, _ = run(["lineage", "Sở TT&TT", "--json", "--data", str(data_dir)], capsys)
    body = json.loads(out)
    assert code == 0 and body["agency"] == "so-tt-tt"
    own = [t for t in body["tasks"] if t["agency"] == "so-tt-tt"]
    assert own and all(t["task"]["doc"] == "langson-2023-cchc-phuluc.txt" for t in own)
    went = [t for t in own if t["status"] == "continued"]
    assert went and any(w["lead_ids"] == ["so-kh-cn"] for t in went for w in t["went_to"])  # to the successor
    code, out, _ = run(["lineage", "Sở TT&TT", "--data", str(data_dir)], capsys)
    assert f"tasks led by it and its lineage: {len(body['tasks'])}" in out and "-> langson-2026-cchc-phuluc/" in out


def test_serve_reports_a_taken_port_at_once(tmp_path):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        t0 = time.monotonic()
        p = cchc("serve", "--port", str(port), "--data", str(tmp_path / "data"), timeout=60)
        assert time.monotonic() - t0 < 10  # before any index or model is loaded
    assert p.returncode == 2 and p.stderr.count("\n") == 1 and f"127.0.0.1:{port}" in p.stderr
    assert not (tmp_path / "data").exists()  # nothing was built


def test_serve_says_where_it_listens(tmp_path):
    import shutil

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(CORPUS / TANDOAN_2025, corpus)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CCHC_")}
    proc = subprocess.Popen([sys.executable, "-m", "cchc.service.cli", "serve", "--port", str(port), "--data",
                             str(tmp_path / "data"), "--corpus", str(corpus), "--model", "hashing"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()  # printed once the server answers
        assert line.strip() == f"listening on http://127.0.0.1:{port}", line or proc.stderr.read()
    finally:
        proc.terminate()
        proc.wait(20)
