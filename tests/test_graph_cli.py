"""`cchc build | add | remove | sparql | export | trace` on the real corpus, and their failures."""

from __future__ import annotations

import json
import shutil

import pytest
from cchc.service.cli import main
from rdflib import Graph

from .conftest import APPENDIX_2026, CORPUS, TANDOAN_2025


def run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def data(data_dir):
    """The session's data directory, built once as `cchc build` builds it."""
    return data_dir


def test_build_prints_a_summary(tmp_path, capsys):
    # the hashing encoder keeps this fresh build fast; the real model's build is the session's `data_dir`
    code, out, _ = run(["build", "--data", str(tmp_path), "--corpus", str(CORPUS), "--model", "hashing", "-q"],
                       capsys)
    assert code == 0
    assert "5 documents, 249 tasks, 101 citations" in out and "triples" in out and "carry-over links" in out
    gen = tmp_path / (tmp_path / "CURRENT").read_text().strip()  # one generation holds every product
    assert (gen / "oxigraph").is_dir() and (gen / "search" / "units.jsonl").exists() and (gen / "sources").is_dir()


def test_build_graph_only_needs_no_model(tmp_path, capsys):
    code, out, _ = run(["build", "--graph-only", "--data", str(tmp_path), "-q"], capsys)
    assert code == 0 and "5 documents, 249 tasks" in out
    gen = tmp_path / (tmp_path / "CURRENT").read_text().strip()
    assert (gen / "oxigraph").is_dir() and not (gen / "search").exists()
    assert not (tmp_path / "models").exists()


def test_trace_text_and_json(data, capsys):
    code, out, _ = run(["trace", "NĐ 118", "--data", str(data)], capsys)
    assert code == 0
    assert f"{APPENDIX_2026}:841  III.9  [cites]  Công bố TTHC" in out
    assert f"why: cites 118/2025/NĐ-CP ({APPENDIX_2026}:847)" in out
    code, out, _ = run(["trace", "76/NQ-CP", "--json", "--data", str(data)], capsys)
    body = json.loads(out)
    assert body["instruments"] == ["76/NQ-CP"]
    hit = next(h for h in body["hits"] if h["kind"] == "task")
    assert hit["link"] == "via-plan" and [s["relation"] for s in hit["path"]] == ["partOf", "implements", None]


def test_sparql_formats(data, capsys, tmp_path):
    query = 'SELECT ?no WHERE { ?t cchc:leadAgency/skos:prefLabel "Sở Tư pháp"@vi ; cchc:sectionNumber "III" ; ' \
            'cchc:rowNumber ?no ; cchc:partOf/dcterms:identifier "langson-2026-cchc-phuluc" }'
    code, out, _ = run(["sparql", query, "--format", "csv", "--data", str(data)], capsys)
    assert code == 0 and out.split() == ["no", "5"]
    code, out, _ = run(["sparql", query, "--format", "json", "--data", str(data)], capsys)
    assert json.loads(out)["results"]["bindings"][0]["no"]["value"] == "5"
    code, out, _ = run(["sparql", query, "--data", str(data)], capsys)
    assert code == 0 and "5" in out
    path = tmp_path / "q.rq"
    path.write_text('CONSTRUCT { ?i dcterms:identifier ?id } WHERE { ?i dcterms:identifier "60-NQ/TU" ; '
                    'dcterms:identifier ?id }', "utf-8")
    code, out, _ = run(["sparql", "--file", str(path), "--format", "turtle", "--data", str(data)], capsys)
    assert code == 0 and len(Graph().parse(data=out, format="turtle")) == 1
    assert '"60-NQ/TU"' in out and "xsd:string" not in out
    code, out, _ = run(["sparql", "ASK { ?x a cchc:Appendix }", "--data", str(data)], capsys)
    assert out.strip() == "true"


def test_export(data, capsys, tmp_path):
    out_file = tmp_path / "kg.trig"
    code, _, _ = run(["export", "--format", "trig", "--out", str(out_file), "--data", str(data)], capsys)
    assert code == 0 and out_file.stat().st_size > 100_000
    code, out, _ = run(["export", "--format", "nquads", "--data", str(data)], capsys)
    assert code == 0 and out.count("\n") > 10_000


def test_add_and_remove(data, capsys, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    code, out, _ = run(["remove", TANDOAN_2025, "--data", str(copy)], capsys)
    assert code == 0 and "4 documents" in out
    code, out, _ = run(["add", str(CORPUS / TANDOAN_2025), "--data", str(copy)], capsys)
    assert code == 0 and "added tandoan-2025-cchc (42 tasks" in out and "5 documents" in out


def test_carryover_links_follow_a_replaced_plan(data, capsys, tmp_path):
    copy = tmp_path / "data"
    shutil.copytree(data, copy)
    count = ["sparql", "SELECT (COUNT(*) AS ?n) WHERE { ?later cchc:continues ?earlier }", "--format", "csv",
             "--data", str(copy)]
    _, out, _ = run(count, capsys)
    before = int(out.split()[1])
    assert before > 40  # 2023 -> 2026 appendix and 2026-2030 plan -> 2026 appendix
    assert run(["remove", APPENDIX_2026, "--data", str(copy)], capsys)[0] == 0
    _, out, _ = run(count, capsys)
    assert int(out.split()[1]) == 0  # every link had the 2026 appendix on one side
    code, out, _ = run(["add", str(CORPUS / APPENDIX_2026), "--data", str(copy)], capsys)
    assert code == 0 and "carry-over links of 2 plan pairs stored" in out
    _, out, _ = run(count, capsys)
    assert int(out.split()[1]) == before


@pytest.mark.parametrize("args, message", [
    (["remove", "nope.txt"], "nope.txt: no such document in the store"),
    (["trace", "NĐ 999"], "no instrument in the graph matches 'NĐ 999'"),
    (["sparql", "SELECT ?x WHERE {"], "SPARQL syntax error"),
    (["sparql", "SELECT ?x WHERE { ?x ?p ?o }", "--format", "turtle"], "--format turtle is for CONSTRUCT"),
    (["add", "/nonexistent/plan.txt"], "/nonexistent/plan.txt: no such file"),
])
def test_bad_input_is_one_line_and_exit_2(data, capsys, args, message):
    code, out, err = run([*args, "--data", str(data)], capsys)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and message in err


def test_commands_on_a_missing_store(tmp_path, capsys):
    code, out, err = run(["trace", "NĐ 118", "--data", str(tmp_path)], capsys)
    assert code == 2 and out == "" and "no graph store here; run `cchc build` first" in err
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01\x02binary")
    code, _, err = run(["add", str(bad), "--data", str(tmp_path)], capsys)
    assert code == 2 and out == "" and str(bad) in err and not (tmp_path / "CURRENT").exists()


def test_carryover_commands_read_the_data_directory(data, capsys):
    code, out, _ = run(["carryover", "--json", "--data", str(data)], capsys)
    assert code == 0 and len(json.loads(out)["pairs"]) > 40
    code, out, _ = run(["history", f"{APPENDIX_2026}:VII.3", "--data", str(data)], capsys)
    assert code == 0 and "(successor, 2025-03-01)" in out
