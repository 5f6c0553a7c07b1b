"""Carry-over of tasks across plans, on the real corpus with the real default model."""

from __future__ import annotations

import argparse
import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from cchc.embeddings.encoder import HashingEncoder
from cchc.graph.rdf.continuity import (
    carryover_graph,
    carryover_graph_docs,
    carryover_graph_name,
    carryover_graphs,
    pairs_from_graph,
)
from cchc.ontology import CCHC, DCTERMS, PROV, IRIs, validate
from cchc.search.carryover.cache import CACHE_NAME, ensure_carryover
from cchc.search.carryover.compute import (
    CarryOverResult,
    compute_carryover,
    history,
    inherited_tasks,
    successor_chain,
    update_carryover,
)
from cchc.search.carryover.text import neutralise
from rdflib import Graph, Literal
from rdflib import namespace as rdfns
from rdflib.namespace import RDF

from .conftest import APPENDIX_2023, APPENDIX_2026, CORPUS, PAPI_2023, PLAN_2026_2030, SHARED, TANDOAN_2025

LINEAGE_REASON = "lead Sở Thông tin và Truyền thông → Sở Khoa học và Công nghệ (successor, 2025-03-01)"


@pytest.fixture(scope="module")
def result(extractions, e5_encoder) -> CarryOverResult:
    return compute_carryover(extractions, e5_encoder)


def _keys(result: CarryOverResult) -> set[tuple[str, str]]:
    """(from, to) as the scorer keys them: "<doc>:<section>.<no>"."""
    key = lambda r: f"{r['doc']}:{r['section']}.{r['no']}"  # noqa: E731
    return {(key(p["from"]), key(p["to"])) for p in result.contract_json()["pairs"]}


def _pair(result: CarryOverResult, earlier: str, later: str):
    return next((p for p in result.pairs if p.earlier.key == earlier and p.later.key == later), None)


# ---------------------------------------------------------------- plan pairs


@pytest.mark.slow
def test_plan_pairs_are_one_line_of_planning(result):
    """2023 -> 2026 appendices, and the 2026-2030 plan -> its 2026 annual plan; not the commune or thematic plan."""
    pairs = {(p.pair.earlier, p.pair.later, p.pair.relation) for p in result.plans}
    assert pairs == {(APPENDIX_2023, APPENDIX_2026, "successive"), (PLAN_2026_2030, APPENDIX_2026, "period")}
    linked = {d for p in result.pairs for d in (p.earlier.doc, p.later.doc)}
    assert TANDOAN_2025 not in linked and PAPI_2023 not in linked


def test_plan_pairs_of_the_corpus_without_the_model(extractions):
    """The pairing alone, from the manifest and headers: the two pairs of one line of planning, in order."""
    from cchc.graph.corpus import load_manifest
    from cchc.search.carryover.plans import PlanPair, describe_plans, plan_pairs

    plans = describe_plans(extractions.values(), load_manifest(CORPUS))
    assert plan_pairs(plans) == [PlanPair(APPENDIX_2023, APPENDIX_2026, "successive"),
                                 PlanPair(PLAN_2026_2030, APPENDIX_2026, "period")]


def test_a_bare_plan_number_is_carried_out_in_the_plans_own_province(extractions):
    """Tân Đoàn's plan carries out "Kế hoạch số 184/KH-UBND" of its province (not in the corpus). Were the
    2026-2030 plan numbered 184/KH-UBND in Lạng Sơn and again in another province, the commune plan would
    carry out the one of its own province (its header names Lạng Sơn), not both; with one candidate only,
    the number is taken at its word, as before."""
    import dataclasses

    from cchc.graph.corpus import load_manifest
    from cchc.search.carryover.plans import PlanPair, describe_plans, plan_pairs

    plans = describe_plans(extractions.values(), load_manifest(CORPUS))
    commune = plans[TANDOAN_2025]
    assert "184/KH-UBND" in commune.cites and "lang son" in commune.where
    here = dataclasses.replace(plans[PLAN_2026_2030], plan_ids=frozenset({"184/KH-UBND"}), period=(2021, 2025))
    there = dataclasses.replace(here, doc="caobang-2021-2025-cchc.txt", issuer="UBND tỉnh Cao Bằng")
    implements = [p for p in plan_pairs({**plans, PLAN_2026_2030: here, there.doc: there})
                  if p.relation == "implements"]
    assert implements == [PlanPair(PLAN_2026_2030, TANDOAN_2025, "implements")]
    alone = plan_pairs({**plans, there.doc: there, PLAN_2026_2030: plans[PLAN_2026_2030]})
    assert PlanPair(there.doc, TANDOAN_2025, "implements") in alone


def _dictionary_cosine(left: list[str], right: list[str], containment: float) -> np.ndarray:
    """TF-IDF cosine as a loop over term dictionaries (IDF over both lists): the definition the arrays follow."""
    import math
    from collections import Counter

    from cchc.search.carryover.text import lexical_terms

    counts = [Counter(lexical_terms(t)) for t in (*left, *right)]
    df = Counter(k for c in counts for k in c)
    vecs = []
    for c in counts:
        v = {k: (1 + math.log(x)) * math.log(1 + len(counts) / df[k]) for k, x in c.items()}
        norm = math.sqrt(sum(x * x for x in v.values())) or 1.0
        vecs.append({k: x / norm for k, x in v.items()})
    out = np.zeros((len(left), len(right)), dtype=np.float32)
    for i, a in enumerate(vecs[:len(left)]):
        for j, b in enumerate(vecs[len(left):]):
            if a and b:
                small, big = (a, b) if len(a) <= len(b) else (b, a)
                cos = sum(x * big.get(k, 0.0) for k, x in small.items())
                covered = sum(x * x for k, x in small.items() if k in big)
                out[i, j] = max(cos, containment * covered) if containment else cos
    return out


@pytest.mark.parametrize("containment", [0.0, 0.8])
def test_lexical_matrix_is_the_dictionary_cosine_to_the_bit(extractions, containment):
    """The arrays sum in the dictionary loop's order: a score on the threshold must not move by a last bit."""
    from cchc.graph.extract.agencies import load_registry
    from cchc.search.carryover.text import lexical_matrix

    registry = load_registry()
    rows = {d: [neutralise(t.content, registry, agencies="drop") for t in extractions[d].tasks] + [""]
            for d in (APPENDIX_2023, APPENDIX_2026, PLAN_2026_2030)}
    for a, b in ((APPENDIX_2023, APPENDIX_2026), (PLAN_2026_2030, APPENDIX_2026)):
        got = lexical_matrix(rows[a], rows[b], containment=containment)
        assert got.shape == (len(rows[a]), len(rows[b])) and (got > 0.3).sum() >= 10
        assert not got[-1].any() and not got[:, -1].any()  # an empty row scores 0
        assert np.array_equal(got, _dictionary_cosine(rows[a], rows[b], containment))


# ---------------------------------------------------------------- acceptance


@pytest.mark.slow
def test_lead_changed_through_the_restructuring_is_linked_with_the_lineage_reason(result):
    pair = _pair(result, f"{APPENDIX_2023}:VII.3", f"{APPENDIX_2026}:VII.3")
    assert pair is not None, "2023 VII.3 (LGSP, Sở TT&TT) should continue in 2026 VII.3 (Sở KH&CN)"
    assert pair.earlier.lead_ids == ("so-tt-tt",) and pair.later.lead_ids == ("so-kh-cn",)
    assert LINEAGE_REASON in pair.reasons
    assert pair.score >= 0.8


@pytest.mark.slow
def test_district_committees_continue_as_commune_committees(result):
    pair = _pair(result, f"{APPENDIX_2023}:II.8", f"{APPENDIX_2026}:II.8")
    assert pair is not None
    assert any(r.startswith("lead UBND các huyện, thành phố → UBND các xã, phường (successor") for r in pair.reasons)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["VII.7", "I.5", "II.9"])
def test_a_2026_task_without_predecessor_is_new(result, task):
    """VII.7 (Công an tỉnh: information-security equipment), I.5 (idea contest), II.9 (post-merger decrees)."""
    key = f"{APPENDIX_2026}:{task}"
    plan = result.plan(APPENDIX_2023, APPENDIX_2026)
    assert key in plan.new
    assert all(p.later.key != key for p in plan.pairs)


@pytest.mark.slow
def test_gold_style_pair_yearly_cchc_index(result):
    pair = _pair(result, f"{APPENDIX_2023}:I.9", f"{APPENDIX_2026}:I.7")
    assert pair is not None and pair.link == "one-to-one"
    assert "same lead: Sở Nội vụ" in pair.reasons and pair.score > 0.9


@pytest.mark.slow
def test_every_dev_gold_pair_is_found(result):
    gold_file = SHARED / "dev-gold" / "carryover.jsonl"
    if not gold_file.exists():
        pytest.skip("no dev gold next to the checkout")
    gold = [json.loads(line) for line in gold_file.read_text("utf-8").splitlines() if line.strip()]
    want = {(g["from"], g["to"]) for g in gold}
    assert want <= _keys(result)


@pytest.mark.slow
def test_replaced_resolution_and_shared_citation_are_reasons(result):
    v3 = _pair(result, f"{APPENDIX_2023}:V.3", f"{APPENDIX_2026}:V.2")
    assert v3 is not None and "replaced instrument 15/2022/NQ-HĐND → 42/2025/NQ-HĐND" in v3.reasons
    ii1 = _pair(result, f"{APPENDIX_2023}:II.1", f"{APPENDIX_2026}:II.2")
    assert ii1 is not None and "shared citation 43/CT-TTg" in ii1.reasons


@pytest.mark.slow
def test_classification_counts_add_up(result, extractions):
    for plan in result.plans:
        c = plan.counts()
        n_earlier = len(extractions[plan.pair.earlier].tasks)
        n_later = len(extractions[plan.pair.later].tasks)
        assert c["earlier"] == n_earlier and c["later"] == n_later
        assert c["continued"] + c["dropped"] == n_earlier
        assert c["carried"] + c["new"] == n_later
        assert not set(plan.continued) & set(plan.dropped) and not set(plan.carried) & set(plan.new)
        for p in plan.pairs:
            assert p.earlier.doc == plan.pair.earlier and p.later.doc == plan.pair.later
            assert 0.0 <= p.score <= 1.0 and p.score >= result.threshold
    successive = result.plan(APPENDIX_2023, APPENDIX_2026)
    assert 25 <= len(successive.pairs) <= 40  # mostly one-to-one; most rows recur, some are dropped or new


@pytest.mark.slow
def test_links_are_mostly_one_to_one(result):
    plan = result.plan(APPENDIX_2023, APPENDIX_2026)
    extra = [p for p in plan.pairs if p.link != "one-to-one"]
    assert len(extra) <= 3
    split = _pair(result, f"{APPENDIX_2023}:IV.5", f"{APPENDIX_2026}:IV.4")  # satisfaction: education + health
    assert split is not None and _pair(result, f"{APPENDIX_2023}:IV.5", f"{APPENDIX_2026}:IV.3") is not None


@pytest.mark.slow
def test_contract_json_shape(result):
    body = json.loads(json.dumps(result.contract_json(), ensure_ascii=False))
    assert body["pairs"]
    for p in body["pairs"]:
        for side in ("from", "to"):
            assert {"doc", "section", "no", "line"} <= p[side].keys()
        assert isinstance(p["score"], float) and isinstance(p["reasons"], list)


# ---------------------------------------------------------------- history and lineage


@pytest.mark.slow
def test_history_walks_back_to_2023(result):
    steps = history(result, f"{APPENDIX_2026}:I.7")
    assert [s["key"] for s in steps] == [f"{APPENDIX_2023}:I.9", f"{APPENDIX_2026}:I.7"]
    assert steps[0]["score"] is None and steps[1]["query"] and steps[1]["score"] > 0.9
    assert steps[1]["links"][0]["from"] == f"{APPENDIX_2023}:I.9"
    assert history(result, f"{APPENDIX_2026}:I-7") == steps  # the IRI spelling of the key is accepted
    with pytest.raises(ValueError, match="unknown task"):
        history(result, f"{APPENDIX_2026}:IX.99")


@pytest.mark.slow
def test_agency_lineage_queries(result):
    chain = successor_chain("so-tt-tt")
    assert ("so-kh-cn", "2025-03-01", "merge") in {(s["successor"], s["date"], s["kind"]) for s in chain}
    inherited = inherited_tasks(result, "so-kh-cn")
    assert (f"{APPENDIX_2023}:VII.3", f"{APPENDIX_2026}:VII.3") in {(p.earlier.key, p.later.key) for p in inherited}
    assert all("so-kh-cn" in p.later.lead_ids for p in inherited)
    with pytest.raises(ValueError):
        successor_chain("no-such-agency")


def test_neutralise_drops_years_numbers_and_renames_agencies():
    from cchc.graph.extract.agencies import load_registry

    text = "Kế hoạch số 02/KH-UBND ngày 04/01/2023 của UBND các huyện, thành phố năm 2023, giai đoạn 2021 - 2025"
    out = neutralise(text, load_registry())
    assert "2023" not in out and "02/KH-UBND" not in out and "2021" not in out
    assert "UBND các xã, phường" in out or "Ủy ban nhân dân các xã" in out


# ---------------------------------------------------------------- RDF


def _task_stubs(graph: Graph, iris: IRIs, pairs: list[dict]) -> Graph:
    """Minimal typed task nodes with spans and documents, as the document graphs hold them."""
    for p in pairs:
        for ref in (p["from"], p["to"]):
            stem = Path(ref["doc"]).stem
            task, doc = iris.task(stem, ref["section"], ref["no"]), iris.doc(stem)
            span = iris.span(stem, ref["line"], ref["end_line"])
            graph.add((doc, RDF.type, CCHC.Appendix if "phuluc" in stem else CCHC.Plan))
            graph.add((doc, DCTERMS.identifier, Literal(stem, datatype=rdfns.XSD.string)))
            graph.add((task, RDF.type, CCHC.Task))
            graph.add((task, CCHC.content, Literal("…", datatype=rdfns.XSD.string)))
            graph.add((task, CCHC.partOf, doc))
            graph.add((task, CCHC.span, span))
            graph.add((task, PROV.wasDerivedFrom, doc))
            graph.add((span, RDF.type, CCHC.SourceSpan))
            graph.add((span, CCHC.inDocument, doc))
            graph.add((span, CCHC.startLine, Literal(ref["line"])))
            graph.add((span, CCHC.endLine, Literal(ref["end_line"])))
    return graph


@pytest.mark.slow
def test_carryover_rdf_conforms_to_the_shapes(result):
    iris = IRIs()
    pairs = result.contract_json()["pairs"]
    links = carryover_graph(result.pairs, iris)
    assert len(set(links.subjects(RDF.type, CCHC.CarryOver))) == len(pairs)
    conforms, _, text = validate(_task_stubs(links + Graph(), iris, pairs))
    assert conforms, text
    # the shapes do check it: a continues triple without its CarryOver node is refused
    broken = _task_stubs(Graph(), iris, pairs[:1])
    p = pairs[0]
    later = iris.task(Path(p["to"]["doc"]).stem, p["to"]["section"], p["to"]["no"])
    earlier = iris.task(Path(p["from"]["doc"]).stem, p["from"]["section"], p["from"]["no"])
    broken.add((later, CCHC.continues, earlier))
    assert not validate(broken)[0]


@pytest.mark.slow
def test_named_graph_per_plan_pair_and_round_trip(result):
    iris = IRIs()
    graphs = carryover_graphs(result.pairs, iris)
    name = carryover_graph_name(iris, APPENDIX_2023, APPENDIX_2026)
    assert str(name) == "https://w3id.org/cchc/graph/carryover/langson-2023-cchc-phuluc--langson-2026-cchc-phuluc"
    assert set(graphs) == {name, carryover_graph_name(iris, PLAN_2026_2030, APPENDIX_2026)}
    assert carryover_graph_docs(name, iris) == ("langson-2023-cchc-phuluc", "langson-2026-cchc-phuluc")
    back = pairs_from_graph(graphs[name], iris)
    want = result.plan(APPENDIX_2023, APPENDIX_2026).pairs
    assert {(b["from"]["doc"], b["from"]["section"], b["from"]["no"], b["from"]["line"], b["to"]["no"],
             round(b["score"], 4)) for b in back} == \
        {(p.earlier.doc, p.earlier.section, p.earlier.no, p.earlier.line, p.later.no, round(p.score, 4))
         for p in want}


# ---------------------------------------------------------------- cache and incremental update


def _corpus_copy(tmp_path: Path) -> Path:
    out = tmp_path / "corpus"
    shutil.copytree(CORPUS, out)
    return out


def test_cache_serves_without_model_and_recomputes_only_changed_plan_pairs(tmp_path, monkeypatch):
    corpus, data = _corpus_copy(tmp_path), tmp_path / "data"
    calls: list[str] = []

    def factory():
        calls.append("encoder")
        return HashingEncoder()

    first = ensure_carryover(corpus, data, factory, HashingEncoder().model_id)
    assert calls == ["encoder"] and (data / CACHE_NAME).exists()
    assert [p.name for p in data.iterdir() if p.name.startswith(".carryover-")] == []  # no temporary left
    again = ensure_carryover(corpus, data, factory, HashingEncoder().model_id)
    assert calls == ["encoder"], "a current cache must not load the model"
    assert again.to_json() == first.to_json()

    # replace the period plan: the 2023 -> 2026 appendix links are kept as they were, not recomputed
    import cchc.search.carryover.compute as co

    seen: list[str] = []
    real = co._match
    monkeypatch.setattr(co, "_match", lambda pair, *a, **k: seen.append(pair.key) or real(pair, *a, **k))
    plan = corpus / PLAN_2026_2030
    plan.write_text(plan.read_text("utf-8") + "\n", "utf-8")
    updated = ensure_carryover(corpus, data, factory, HashingEncoder().model_id)
    assert seen == ["langson-2026-2030-cchc--langson-2026-cchc-phuluc"]
    assert updated.plan(APPENDIX_2023, APPENDIX_2026).to_json() == first.plan(APPENDIX_2023, APPENDIX_2026).to_json()


def test_update_keeps_untouched_plan_pairs(extractions):
    enc = HashingEncoder()
    full = compute_carryover(extractions, enc)
    kept = update_carryover(full, extractions, enc, {PLAN_2026_2030})
    assert [p.pair for p in kept.plans] == [p.pair for p in full.plans]
    assert kept.plan(APPENDIX_2023, APPENDIX_2026) is full.plan(APPENDIX_2023, APPENDIX_2026)
    assert kept.to_json()["tasks"] == full.to_json()["tasks"]


def test_requested_pair_and_bad_documents(extractions):
    enc = HashingEncoder()
    res = compute_carryover(extractions, enc, pairs=[(APPENDIX_2023, TANDOAN_2025)])
    assert [(p.pair.earlier, p.pair.later, p.pair.relation) for p in res.plans] == \
        [(APPENDIX_2023, TANDOAN_2025, "requested")]
    with pytest.raises(ValueError, match="not a document"):
        compute_carryover(extractions, enc, pairs=[(APPENDIX_2023, "nope.txt")])


def test_result_json_round_trip(extractions):
    res = compute_carryover(extractions, HashingEncoder())
    assert CarryOverResult.from_json(json.loads(json.dumps(res.to_json()))).to_json() == res.to_json()


# ---------------------------------------------------------------- CLI


def _run(argv: list[str], data: Path, capsys) -> tuple[int, str]:
    from cchc.service import cli_carryover
    from cchc.service.settings import Settings

    parser = argparse.ArgumentParser(prog="cchc")
    cli_carryover.register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    settings = replace(Settings(), data_dir=data, model="hashing")
    rc = args.func(args, settings)
    return rc, capsys.readouterr().out


def test_cli_carryover_history_and_lineage(tmp_path, capsys):
    data = tmp_path / "data"
    rc, out = _run(["carryover", "--json"], data, capsys)
    body = json.loads(out)
    assert rc == 0 and body["pairs"] and {p["key"] for p in body["plans"]} == {
        "langson-2023-cchc-phuluc--langson-2026-cchc-phuluc", "langson-2026-2030-cchc--langson-2026-cchc-phuluc"}
    rc, out = _run(["carryover", "--from", APPENDIX_2023, "--to", APPENDIX_2026], data, capsys)
    assert rc == 0 and "continued:" in out and "dropped (earlier plan only):" in out and "new (later plan only):" in out
    rc, out = _run(["history", f"{APPENDIX_2026}:I.7", "--json"], data, capsys)
    assert rc == 0 and json.loads(out)["history"][-1]["query"]
    rc, out = _run(["lineage", "Sở Khoa học và Công nghệ", "--json"], data, capsys)
    assert rc == 0 and json.loads(out)["agency"] == "so-kh-cn"
    with pytest.raises(ValueError):
        _run(["history", "nope.txt:I.1"], data, capsys)
    with pytest.raises(ValueError):
        _run(["carryover", "--from", APPENDIX_2023], data, capsys)
