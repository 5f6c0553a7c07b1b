"""`cchc carryover`, `cchc history` and `cchc lineage`: thin commands over the carry-over library.

The result comes from `<data>/carryover.json` when it is current for the
corpus files and the model (cchc.search.carryover_cache); otherwise the corpus
is extracted, the model loaded and the links computed once and cached, so
the HTTP service and later commands read the same result.
"""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any

from cchc.graph.ids import task_ref
from cchc.service.settings import Settings

# Commands import their library modules inside the handler: see `cchc.service.cli` for the measured reason.

log = logging.getLogger(__name__)


def load_result(settings: Settings, threshold: float | None = None, *, progress: bool = True):
    """The corpus's carry-over result for these settings (cached in the data directory)."""
    from cchc.service.application import Application

    return Application(settings).load_carryover(threshold=threshold, progress=progress)


def _requested(args: argparse.Namespace, settings: Settings, result):
    """The plan results to show: all, or the --from/--to pair (computed on the spot if not a corpus pair)."""
    if not (args.from_doc or args.to_doc):
        return result.plans, result
    if not (args.from_doc and args.to_doc):
        raise ValueError("--from and --to go together")
    try:
        return [result.plan(args.from_doc, args.to_doc)], result
    except KeyError:
        from cchc.embeddings.encoder import make_encoder
        from cchc.search.carryover.compute import compute_carryover
        from cchc.service.application import extract_corpus

        log.info("%s -> %s is not a plan pair of the corpus: computing it", args.from_doc, args.to_doc)
        encoder = make_encoder(settings.model, settings.data_dir, runtime=settings.encoder_runtime)
        fresh = compute_carryover(extract_corpus(settings.corpus_dir), encoder,
                                  threshold=result.threshold, pairs=[(args.from_doc, args.to_doc)])
        return fresh.plans, fresh


def _task_line(result, key: str, width: int = 110) -> str:
    t = result.tasks.get(key)
    where = key.split(":", 1)[1]
    text = t.content if t else ""
    return f"{where:10s} {text[:width]}{'…' if len(text) > width else ''}"


def cmd_carryover(args: argparse.Namespace, settings: Settings) -> int:
    result = load_result(settings, args.threshold, progress=getattr(args, "progress", False))
    plans, source = _requested(args, settings, result)
    if args.json:
        body: dict[str, Any] = {"pairs": [p.to_json() for plan in plans for p in plan.pairs],
                                "plans": [{k: v for k, v in plan.to_json().items() if k != "pairs"} for plan in plans]}
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    for plan in plans:
        c = plan.counts()
        print(f"== {plan.pair.earlier} -> {plan.pair.later} ({plan.pair.relation}): {c['continued']} continued, "
              f"{c['dropped']} dropped, {c['new']} new; {c['pairs']} links")
        print("\ncontinued:")
        for p in plan.pairs:
            lead = "; ".join(p.later.lead) or "-"
            print(f"  {p.earlier.section}.{p.earlier.no} -> {p.later.section}.{p.later.no}  {p.score:.2f}  "
                  f"[{p.link}] lead now: {lead}")
            print(f"      {p.earlier.content[:100]}")
            print(f"      {p.later.content[:100]}")
            print(f"      why: {'; '.join(p.reasons)}")
        print("\ndropped (earlier plan only):")
        for key in plan.dropped:
            print("  " + _task_line(source, key))
        print("\nnew (later plan only):")
        for key in plan.new:
            print("  " + _task_line(source, key))
        print()
    return 0


def cmd_history(args: argparse.Namespace, settings: Settings) -> int:
    from cchc.search.carryover.compute import history

    steps = history(load_result(settings, progress=getattr(args, "progress", False)), args.task)
    if args.json:
        print(json.dumps({"task": args.task, "history": steps}, ensure_ascii=False, indent=2))
        return 0
    for step in steps:
        t = step["task"]
        mark = "*" if step["query"] else " "
        print(f"{mark} {task_ref(t['doc'], t['section'], t['no'], t['line'])} (line {t['line']})  "
              f"lead: {'; '.join(t['lead']) or '-'}")
        print(f"    {t['content'][:160]}")
        for link in step["links"]:
            print(f"    <- {link['from']}  {link['score']:.2f}  {'; '.join(link['reasons'])}")
    if len(steps) == 1:
        print("  (no earlier or later task linked)")
    return 0


def cmd_lineage(args: argparse.Namespace, settings: Settings) -> int:
    from cchc.graph.extract.agencies import load_registry
    from cchc.search.carryover.compute import inherited_tasks, successor_chain
    from cchc.search.carryover.query import lineage_tasks
    from cchc.search.searcher import resolve_agency

    registry = load_registry()
    agency_id = resolve_agency(args.agency)
    if agency_id is None:
        raise ValueError(f"unknown agency {args.agency!r}: give a registry id or a name")
    chain = successor_chain(agency_id, registry)
    before = [{"predecessor": p, "name": registry.get(p).name if registry.get(p) else p}
              for p in registry.predecessors(agency_id)]
    result = load_result(settings, progress=getattr(args, "progress", False))
    pairs = inherited_tasks(result, agency_id, registry)
    tasks = lineage_tasks(result, agency_id, registry)
    if args.json:
        print(json.dumps({"agency": agency_id, "successors": chain, "predecessors": before,
                          "inherited": [p.to_json() for p in pairs], "tasks": tasks}, ensure_ascii=False, indent=2))
        return 0
    agency = registry.get(agency_id)
    print(f"{agency.name if agency else agency_id} ({agency_id})")
    for s in chain:
        print(f"  -> {s['successor_name']} ({s['kind']}, {s['date']})")
    for b in before:
        print(f"  <- {b['name']}")
    own = sum(1 for t in tasks if t["agency"] == agency_id)
    print(f"\ntasks led by it and its lineage: {len(tasks)} ({own} by {agency.name if agency else agency_id})")
    for t in tasks:
        task = t["task"]
        went = ", ".join(f"{w['id']} (lead: {'; '.join(w['lead']) or '-'}, {w['score']:.2f})" for w in t["went_to"])
        status = {"continued": f"-> {went}", "dropped": "dropped (not in the later plan)",
                  "latest": "in the latest plan"}[t["status"]]
        print(f"  {task['id']}  [{t['agency_name']}]  {status}")
        print(f"      {task['content'][:110]}")
    print(f"\ntasks it leads now that a predecessor led before: {len(pairs)}")
    for p in pairs:
        print(f"  {task_ref(p.earlier.doc, p.earlier.section, p.earlier.no, p.earlier.line)} -> "
              f"{task_ref(p.later.doc, p.later.section, p.later.no, p.later.line)}  {p.score:.2f}  "
              f"{p.later.content[:90]}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    c = sub.add_parser("carryover", help="tasks continued, dropped and new between plans (cached in the data dir)")
    c.add_argument("--from", dest="from_doc", metavar="DOC", help="earlier plan (file name), with --to")
    c.add_argument("--to", dest="to_doc", metavar="DOC", help="later plan (file name), with --from")
    c.add_argument("--threshold", type=float, default=None, help="score a link needs (default 0.44)")
    c.add_argument("--json", action="store_true", help='{"pairs": [...], "plans": [...]} as GET /carryover')
    c.set_defaults(func=cmd_carryover)

    h = sub.add_parser("history", help="the chain of a task across plans, with scores and reasons")
    h.add_argument("task", metavar="TASK", help="the id search shows, e.g. langson-2026-cchc-phuluc/III.9 "
                                                "(older forms such as langson-2026-cchc-phuluc.txt:III.9 work too)")
    h.add_argument("--json", action="store_true", help="print {task, history} as JSON")
    h.set_defaults(func=cmd_history)

    g = sub.add_parser("lineage", help="an agency's successors and the tasks it inherited from its predecessors")
    g.add_argument("agency", metavar="AGENCY", help="registry id (so-kh-cn), name (Sở Khoa học và Công nghệ) "
                                                    "or abbreviation (Sở TT&TT)")
    g.add_argument("--json", action="store_true",
                   help="print {agency, successors, predecessors, inherited, tasks} as JSON")
    g.set_defaults(func=cmd_lineage)

    for parser in (c, h, g):
        parser.add_argument("--data", metavar="DIR", help="data directory (the carry-over cache is DIR/carryover.json)")
        parser.add_argument("--corpus", metavar="DIR", help="corpus directory (default: the embedded corpus)")
        parser.add_argument("--model", metavar="SPEC", help="embedding model used when links must be computed")
