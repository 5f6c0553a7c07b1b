"""Carry-over: which tasks of an earlier plan continue in a later plan, which were dropped, which are new.

Planners ask which 2023 tasks continue in 2026, who leads them after the 2025
restructuring, and where a task came from.  `compute_carryover` picks the plan
pairs of one line of planning (`carryover_plans`), scores every task pair of
each (`carryover_match`: neutralised text, dense and lexical; product; field;
lead agency or its successor; shared or replaced instruments) and keeps
mostly one-to-one links above a threshold.  The result classifies every task
of each plan pair (continued / dropped / new), answers a task's history and
the agency-lineage questions (`carryover_query`), and serialises to the JSON
that `GET /carryover` serves.  graph/continuity.py turns its pairs into
`cchc:continues` triples.

    result = compute_carryover(extractions, encoder)
    result.contract_json()          # {"pairs": [{"from": {...}, "to": {...}, "score": 0.91, "reasons": [...]}]}
    history(result, "langson-2026-cchc-phuluc.txt:I.7")
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Iterable, Mapping, Sequence

import numpy as np
from cchc.embeddings.encoder import Encoder
from cchc.graph.corpus import DocumentInfo, default_corpus_dir, load_manifest
from cchc.graph.extract.agencies import Registry, load_registry
from cchc.graph.extract.records import Extraction, Task
from cchc.search.carryover.match import Weights, choose_links, score_pairs, text_similarity
from cchc.search.carryover.model import CarryOverPair, CarryOverResult, PlanResult, TaskRef, task_key
from cchc.search.carryover.plans import PlanInfo, PlanPair, describe_plans, plan_pairs
from cchc.search.carryover.query import history, inherited_tasks, successor_chain
from cchc.search.carryover.rows import RowsByPlan, plain_content
from cchc.search.carryover.text import lexical_matrix, neutraliser
from cchc.search.carryover.tfidf import tfidf_cosine
from threadpoolctl import ThreadpoolController

__all__ = [
    "DEFAULT_MARGIN", "DEFAULT_THRESHOLD", "CarryOverPair", "CarryOverResult", "PlanPair", "PlanResult", "TaskRef",
    "compute_carryover", "history", "inherited_tasks", "successor_chain", "task_key", "update_carryover",
]

log = logging.getLogger(__name__)

# Chosen by reading every candidate of the 2023 -> 2026 appendices (bench/carryover_review.md):
# below 0.44 the candidates are neighbours in topic, not the same task.
DEFAULT_THRESHOLD = 0.44
# A split or merge link must be this much above the threshold; less for a period plan, whose broad
# tasks are meant to be carried out by several annual rows.
DEFAULT_MARGIN = 0.15
RELATION_MARGINS = {"period": 0.10, "implements": 0.10}



@functools.cache
def _blas() -> ThreadpoolController:
    """numpy's BLAS, limited to one thread around a plan pair's products: its vectors are dozens of rows, and a
    pool of threads spin-waiting on shared cores doubled the CPU time of a national corpus's carry-over
    (bench/bench_carryover.py) for the same products."""
    return ThreadpoolController()


def _by_doc(extractions: Mapping[str, Extraction] | Iterable[Extraction]) -> dict[str, Extraction]:
    items = extractions.values() if isinstance(extractions, Mapping) else extractions
    return {ex.doc: ex for ex in items}


def _tasks(ex: Extraction) -> list[Task]:
    """The document's tasks with distinct keys (a repeated section/STT keeps its first row, with a warning)."""
    seen: dict[str, Task] = {}
    for t in ex.tasks:
        key = task_key(t.span.doc, t.section, t.no, t.span.line)
        if key in seen:
            log.warning("%s:%d: task %s repeats a section/STT; not linked", ex.doc, t.span.line, key)
            continue
        seen[key] = t
    return list(seen.values())


def _texts(task: Task, neutral: Callable[..., str]) -> tuple[str, str]:
    """(whole, plain) content, neutralised, agency names dropped."""
    return neutral(task.content, agencies="drop"), neutral(plain_content(task), agencies="drop")


def _encode(docs: Sequence[str], texts: Mapping[str, list[tuple[str, str]]],
            encoder: Encoder) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Passage vectors of every task's (whole, plain) neutralised content, one encoder call for all."""
    unique = list(dict.fromkeys(x for d in docs for p in texts[d] for x in p))
    vectors = encoder.encode_passages(unique) if unique else np.zeros((0, encoder.dimension), np.float32)
    row = {t: i for i, t in enumerate(unique)}
    out = {}
    for d in docs:
        whole = [row[a] for a, _ in texts[d]]
        plain = [row[b] for _, b in texts[d]]
        out[d] = (vectors[whole], vectors[plain])
    return out


def _clauses(text: str) -> list[str]:
    """The clauses of a broad task ("...; ...; ..."), those long enough to stand as a task."""
    parts = [p.strip() for p in re.split(r";|\.\s", text)]
    return [p for p in parts if len(p.split()) >= 5]


def _clause_similarity(umbrella: list[str], rows: list[str], row_vectors: np.ndarray, encoder: Encoder,
                       w: Weights) -> np.ndarray:
    """Best clause-to-row text similarity, discounted: an annual row usually carries out one clause of a
    period plan's task ("Đẩy mạnh công tác thông tin, tuyên truyền ...; đa dạng hóa hình thức ...")."""
    clauses = [(i, c) for i, t in enumerate(umbrella) for c in _clauses(t)]
    out = np.zeros((len(umbrella), len(rows)), dtype=np.float32)
    if not clauses:
        return out
    vectors = encoder.encode_passages([c for _, c in clauses])
    sims = text_similarity(vectors @ row_vectors.T,
                           lexical_matrix([c for _, c in clauses], rows, containment=w.containment), w)
    for k, (i, _) in enumerate(clauses):
        out[i] = np.maximum(out[i], w.clause * sims[k])
    return out


def _as_of(plan: PlanInfo) -> str | None:
    """The restructuring relations in force for a later plan: those dated by the end of its first year."""
    return f"{plan.start}-12-31" if plan.start else None


def _match(pair: PlanPair, tasks: Mapping[str, list[Task]], rows: RowsByPlan,
           vectors: Mapping[str, tuple[np.ndarray, np.ndarray]], encoder: Encoder, plans: Mapping[str, PlanInfo],
           registry: Registry, threshold: float, margin: float, weights: Weights | None) -> PlanResult:
    """Score every task pair of one plan pair and keep the links (see carryover_match)."""
    earlier, later = tasks[pair.earlier], tasks[pair.later]
    w = weights or Weights()
    re_, rl = rows.get(pair.earlier), rows.get(pair.later)
    (ve_whole, ve_plain), (vl_whole, vl_plain) = vectors[pair.earlier], vectors[pair.later]
    with _blas().limit(limits=1, user_api="blas"):
        dense_whole, dense_plain = ve_whole @ vl_whole.T, ve_plain @ vl_plain.T
    text = text_similarity(dense_whole, tfidf_cosine(re_.whole_terms, rl.whole_terms, containment=w.containment), w)
    plain = text_similarity(dense_plain, tfidf_cosine(re_.plain_terms, rl.plain_terms, containment=w.containment), w)
    product = tfidf_cosine(re_.product_terms, rl.product_terms)
    if pair.relation == "period":
        best = _clause_similarity(re_.plain, rl.plain, vl_plain, encoder, w)
        text, plain = np.maximum(text, best), np.maximum(plain, best)
    candidates = score_pairs(earlier, later, text, plain, product, registry, _as_of(plans[pair.later]), w,
                             floor=threshold)
    links = choose_links(candidates, threshold, margin)
    pairs = [CarryOverPair(TaskRef.of(earlier[c.i]), TaskRef.of(later[c.j]), c.score, c.reasons, pair.key, c.link)
             for c in links]
    log.debug("carry-over %s: %d links", pair.key, len(pairs))
    return PlanResult(pair, pairs, [TaskRef.of(t).key for t in earlier], [TaskRef.of(t).key for t in later])


def _wanted(plans: Mapping[str, PlanInfo], exs: Mapping[str, Extraction],
            pairs: Sequence[tuple[str, str]] | None) -> list[PlanPair]:
    """The corpus's plan pairs, or the requested (earlier, later) documents with their relation if they have one."""
    policy = plan_pairs(plans)
    if pairs is None:
        return policy
    known = {(p.earlier, p.later): p for p in policy}
    for a, b in pairs:
        for d in (a, b):
            if d not in exs:
                raise ValueError(f"{d}: not a document of the corpus")
        if a == b:
            raise ValueError(f"{a}: cannot link a plan to itself")
    return [known.get((a, b), PlanPair(a, b, "requested")) for a, b in pairs]


def _compute(exs: Mapping[str, Extraction], encoder: Encoder, wanted: list[PlanPair],
             plans: Mapping[str, PlanInfo], threshold: float, margin: float | None, registry: Registry,
             weights: Weights | None) -> tuple[list[PlanResult], dict[str, TaskRef]]:
    docs = sorted({d for p in wanted for d in (p.earlier, p.later)})
    tasks = {d: _tasks(exs[d]) for d in docs}
    neutral = neutraliser(registry)
    texts = {d: [_texts(t, neutral) for t in tasks[d]] for d in docs}
    vectors = _encode(docs, texts, encoder)
    rows = RowsByPlan(texts, tasks, neutral, [(p.earlier, p.later) for p in wanted])
    results = []
    for k, p in enumerate(wanted):
        results.append(_match(p, tasks, rows, vectors, encoder, plans, registry, threshold,
                              margin if margin is not None else RELATION_MARGINS.get(p.relation, DEFAULT_MARGIN),
                              weights))
        rows.done(k, (p.earlier, p.later))
    return results, {r.key: r for d in docs for r in map(TaskRef.of, tasks[d])}


def compute_carryover(extractions: Mapping[str, Extraction] | Iterable[Extraction], encoder: Encoder, *,
                      threshold: float = DEFAULT_THRESHOLD, margin: float | None = None,
                      infos: Mapping[str, DocumentInfo] | None = None,
                      pairs: Sequence[tuple[str, str]] | None = None,
                      registry: Registry | None = None, weights: Weights | None = None) -> CarryOverResult:
    """Link the tasks of every plan pair of the corpus, or of the `pairs` asked for as (earlier, later) documents.

    `margin`: how far above the threshold a split or merge link must score
    (default 0.15; 0.10 from a period plan).  `infos`: the manifest entries
    saying who issued each document and for which year or period; by default
    the embedded corpus manifest, and a document without an entry is
    described from its own header.
    """
    t0 = time.perf_counter()
    exs = _by_doc(extractions)
    infos = infos if infos is not None else load_manifest(default_corpus_dir())
    registry = registry or load_registry()
    plans = describe_plans(exs.values(), infos)
    wanted = _wanted(plans, exs, pairs)
    results, refs = _compute(exs, encoder, wanted, plans, threshold, margin, registry, weights)
    log.info("carry-over: %d plan pairs, %d links in %.1fs", len(results), sum(len(r.pairs) for r in results),
             time.perf_counter() - t0)
    return CarryOverResult(results, refs, getattr(encoder, "model_id", ""), threshold,
                           {"margin": margin, "plans": {d: _plan_json(plans[d]) for d in sorted(plans)}})


def _plan_json(p: PlanInfo) -> dict:
    return {"issuer": p.issuer, "level": p.level, "year": p.year, "period": list(p.period) if p.period else None,
            "general": p.general}


def update_carryover(previous: CarryOverResult, extractions: Mapping[str, Extraction] | Iterable[Extraction],
                     encoder: Encoder, changed: Iterable[str], *, infos: Mapping[str, DocumentInfo] | None = None,
                     registry: Registry | None = None, weights: Weights | None = None) -> CarryOverResult:
    """Recompute only the plan pairs involving the `changed` documents; keep every other pair's links.

    When a document is replaced (or added, or removed), the links between two
    untouched plans stay as they were and only the plan pairs that involve the
    changed documents, or that the corpus newly has, are computed again, with
    the previous result's threshold.
    """
    exs = _by_doc(extractions)
    changed = set(changed)
    infos = infos if infos is not None else load_manifest(default_corpus_dir())
    registry = registry or load_registry()
    plans = describe_plans(exs.values(), infos)
    old = {(p.pair.earlier, p.pair.later): p for p in previous.plans}
    policy = plan_pairs(plans)
    todo = [p for p in policy if p.earlier in changed or p.later in changed or (p.earlier, p.later) not in old]
    margin = previous.meta.get("margin")
    fresh, refs = _compute(exs, encoder, todo, plans, previous.threshold, margin, registry, weights)
    done = {(r.pair.earlier, r.pair.later): r for r in fresh}
    results = [done.get((p.earlier, p.later)) or old[(p.earlier, p.later)] for p in policy]
    kept_docs = {d for r in results for d in (r.pair.earlier, r.pair.later)}
    tasks = {k: t for k, t in previous.tasks.items() if t.doc in kept_docs and t.doc not in changed}
    tasks.update(refs)
    log.info("carry-over update: %d of %d plan pairs recomputed", len(fresh), len(results))
    return CarryOverResult(results, tasks, getattr(encoder, "model_id", previous.model_id), previous.threshold,
                           {**previous.meta, "plans": {d: _plan_json(plans[d]) for d in sorted(plans)}})
