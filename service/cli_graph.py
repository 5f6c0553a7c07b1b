"""`cchc build | add | remove | sparql | export | trace`: thin commands over the graph store.

Library objects do the work (`cchc.graph.pipeline`, `Store`, `trace`); this
module only opens the store where the settings say, draws progress on stderr
and prints.  Bad input raises ValueError (or SourceError), which `main` turns
into one line and exit code 2.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from pathlib import Path

from cchc.service.settings import MAX_SOURCE_HELP, Settings

# Commands import their library modules inside the handler: see `cchc.service.cli` for the measured reason.

log = logging.getLogger(__name__)

_DATA_HELP = "data directory (its live generation is named in DIR/CURRENT)"


STORE_URL_HELP = "the graph in this SPARQL 1.1 server (its query endpoint; or CCHC_STORE_URL, see the README)"


def _store(settings: Settings, create: bool = False):
    from cchc.graph.rdf.store import Store
    from cchc.graph.read.readindex import save_with_generation

    if settings.store_url:
        from cchc.service.application import remote_store

        return remote_store(settings, create=create)
    return Store.open(settings.data_dir, base=settings.base_iri, create=create,  # the data directory's generations
                      derive=save_with_generation)


def _summary(counts: dict, seconds: float) -> str:
    keys = ("documents", "tasks", "citations", "units", "targets", "instruments", "agencies", "triples")
    return ", ".join(f"{counts.get(k, 0)} {k}" for k in keys) + f" in {seconds:.1f}s"


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    """Graph store, search index and carry-over links, all from the corpus (the README's main job)."""
    from cchc.service.application import Application

    if not settings.corpus_dir.is_dir():
        raise ValueError(f"{settings.corpus_dir}: not a directory")
    progress = getattr(args, "progress", False) and not args.quiet
    app = Application(settings)
    try:
        counts = app.build(progress=progress, graph_only=args.graph_only)
    finally:
        app.close()  # the build cluster's workers, when one was asked for
    if args.graph_only:
        print(f"built {settings.data_dir} (graph only): {_summary(counts, counts['total_s'])}")
        return 0
    print(f"built {settings.data_dir}: {_summary(counts, counts['total_s'])}; {counts['continues']} carry-over "
          f"links; search index in {counts['search_s']:.1f}s")
    return 0


def _inputs(names: list[str]) -> list[Path]:
    """The files named, a folder standing for the documents in it; a missing or odd path is refused first."""
    from cchc.graph.corpus import corpus_files
    from cchc.graph.extract.reading import SourceError

    out: list[Path] = []
    for name in names:
        path = Path(name)
        if path.is_dir():
            found = corpus_files(path)
            if not found:
                raise SourceError(path, "a folder with no documents in it")
            out.extend(found)
        elif not path.is_file():
            raise SourceError(path, "no such file" if not path.exists() else "not a regular file")
        else:
            out.append(path)
    return out


def cmd_add(args: argparse.Namespace, settings: Settings) -> int:
    """Documents into a built data directory: store, search index, sources and carry-over, incrementally."""
    from cchc.graph.rdf.pipeline import add_file
    from cchc.service.application import Application

    paths = _inputs(args.files)
    t0 = time.perf_counter()
    app = Application(settings)
    if not app.is_built() and app.legacy_corpus is None:  # a graph-only data directory: the store alone
        store = _store(settings, create=True)
        for path in paths:
            rec = add_file(store, path, settings.max_source_bytes)
            print(f"added {rec.stem} ({rec.counts['tasks']} tasks, {rec.counts['citations']} citations)")
        print(f"store now {_summary(store.counts(), time.perf_counter() - t0)} (no search index here: "
              f"`cchc build` makes one)")
        return 0
    try:
        records = app.add_files(paths, progress=getattr(args, "progress", False) and not args.quiet)
    finally:
        app.close()
    for rec in records:
        print(f"added {rec.stem} ({rec.counts['tasks']} tasks, {rec.counts['citations']} citations)")
    print(f"store now {_summary(app.store.counts(), time.perf_counter() - t0)}; search index updated; "
          f"carry-over links of {app.linked_pairs} plan pairs stored")
    return 0


def cmd_remove(args: argparse.Namespace, settings: Settings) -> int:
    from cchc.service.application import Application

    t0 = time.perf_counter()
    app = Application(settings)
    if not app.is_built() and app.legacy_corpus is None:  # a graph-only data directory: the store alone
        store = _store(settings)
        for doc in args.docs:
            store.remove_document(doc)
        print(f"removed {', '.join(args.docs)}; store now {_summary(store.counts(), time.perf_counter() - t0)}")
        return 0
    files = app.remove_documents(args.docs)
    print(f"removed {', '.join(files)}; store now {_summary(app.store.counts(), time.perf_counter() - t0)}; "
          f"search index and carry-over links updated")
    return 0


def _print_rows(result, fmt: str) -> None:
    if fmt in ("csv", "json"):
        sys.stdout.write(result.serialize(format=fmt).decode("utf-8"))
        if fmt == "json":
            sys.stdout.write("\n")
        return
    if fmt == "turtle":
        raise ValueError("--format turtle is for CONSTRUCT/DESCRIBE queries; use table, csv or json")
    from cchc.service.cli_search import console
    from rich.table import Table

    table = Table(show_lines=False)
    for v in result.vars:
        table.add_column(str(v), overflow="fold")
    rows = list(result)
    for row in rows:
        table.add_row(*["" if x is None else str(x) for x in row])
    console().print(table)
    print(f"{len(rows)} rows", file=sys.stderr)


def cmd_sparql(args: argparse.Namespace, settings: Settings) -> int:
    if (args.query is None) == (args.file is None):
        raise ValueError("give a QUERY or --file F (one of them)")
    if args.file and not Path(args.file).is_file():
        raise ValueError(f"{args.file}: no such query file (--file takes a file holding one SPARQL query)")
    text = Path(args.file).read_text("utf-8") if args.file else args.query
    store = _store(settings)
    try:
        result = store.query(text)
    except SyntaxError as exc:
        raise ValueError(f"SPARQL syntax error: {str(exc).splitlines()[0][:200]}") from None
    if result.type == "ASK":
        if args.format == "json":
            print(json.dumps({"head": {}, "boolean": bool(result.askAnswer)}))
        else:
            print("true" if result.askAnswer else "false")
    elif result.type in ("CONSTRUCT", "DESCRIBE"):
        if args.format == "csv":
            raise ValueError("--format csv is for SELECT queries; use turtle or json (JSON-LD)")
        from cchc.graph.rdf.terms import plain_literals
        from cchc.ontology import bind_namespaces
        from rdflib import Graph

        graph = bind_namespaces(Graph())
        for triple in result.graph:
            graph.add(plain_literals(triple))
        sys.stdout.write(graph.serialize(format="json-ld" if args.format == "json" else "turtle"))
    else:
        _print_rows(result, args.format)
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    from cchc.graph.read.export import export

    store = _store(settings)
    if args.out:
        export(store, args.format, Path(args.out))
        print(f"wrote {args.out}", file=sys.stderr)
    else:
        sys.stdout.buffer.write(export(store, args.format) or b"")
    return 0


def cmd_trace(args: argparse.Namespace, settings: Settings) -> int:
    from cchc.graph.read.projection import projection
    from cchc.graph.read.trace import network, resolve_instruments, trace

    store = _store(settings)
    targets = resolve_instruments(store, args.ref)
    if not targets:
        raise ValueError(f"no instrument in the graph matches {args.ref!r}")
    hits = trace(store, args.ref, max_depth=args.max_depth)
    basis = network(store, args.ref, max_depth=args.max_depth)
    g = projection(store)
    labels = {n: a.get("id") or a.get("stem") or a.get("label") or n for n, a in g.nodes(data=True)}
    if args.json:
        print(json.dumps({"query": args.ref, "instruments": [labels[t] for t in targets],
                          "hits": [h.to_json() for h in hits],
                          "network": [{"instrument": n.instrument_id, "why": n.why(g)} for n in basis]},
                         ensure_ascii=False, indent=2))
        return 0
    print(f"{args.ref!r} -> {', '.join(g.nodes[t]['label'] for t in targets)}: {len(hits)} hits")
    for h in hits:
        where = f"{h.section}.{h.no}" if h.section and h.no else h.kind
        content = h.content if len(h.content) <= 100 else h.content[:99] + "…"
        print(f"{h.doc}:{h.line}  {where}  [{h.link}]  {content}")
        print(f"    why: {h.why(labels)}")
    if basis:
        print(f"instruments resting on it ({len(basis)}):")
        for n in basis:
            print(f"    {n.why(g)}")
    return 0


def _cluster_flags(p: argparse.ArgumentParser) -> None:
    """Extraction and encoding on Dask (service/cluster.py); without either flag the build runs in this process."""
    g = p.add_mutually_exclusive_group()
    g.add_argument("--workers", type=int, metavar="N", dest="build_workers",
                   help="extract and encode on a local Dask cluster of N worker processes (CCHC_BUILD_WORKERS)")
    g.add_argument("--cluster", metavar="ADDRESS",
                   help="extract and encode on the Dask cluster whose scheduler is at ADDRESS, e.g. "
                        "tcp://10.0.0.5:8786 (CCHC_CLUSTER); workers need this package installed, not the files")


def register(sub: argparse._SubParsersAction) -> None:
    from cchc.graph.rdf.formats import EXPORT_FORMATS  # not .store: every command would load rdflib (~0.3 s)

    b = sub.add_parser("build", help="extract the corpus; build the graph store, search index and carry-over links")
    b.add_argument("--corpus", metavar="DIR", help="corpus directory (default: the embedded corpus)")
    b.add_argument("--data", metavar="DIR", help="data directory (store, search index, models; default ./var)")
    b.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    b.add_argument("--model", metavar="SPEC",
                   help="embedding model: e5-small (default, offline), hashing, a local folder or a hub name")
    b.add_argument("--graph-only", action="store_true",
                   help="only the graph store (no model, no search index, no carry-over links)")
    b.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    b.add_argument("--max-source-mb", type=int, metavar="MIB", help=MAX_SOURCE_HELP)
    _cluster_flags(b)
    b.set_defaults(func=cmd_build)

    a = sub.add_parser("add", help="add or replace documents: graph store, search index and carry-over, at once",
                       description="Add documents to a built data directory, or replace those with the same file "
                                   "name. Only the new documents' units are encoded; a running `cchc serve` answers "
                                   "from them at once.")
    a.add_argument("files", nargs="+", metavar="FILE", help="documents to add, or folders of documents")
    a.add_argument("--data", metavar="DIR", help=_DATA_HELP)
    a.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    a.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    a.add_argument("--max-source-mb", type=int, metavar="MIB", help=MAX_SOURCE_HELP)
    _cluster_flags(a)
    a.set_defaults(func=cmd_add)

    r = sub.add_parser("remove", help="remove documents from the graph store, search index and carry-over")
    r.add_argument("docs", nargs="+", metavar="DOC", help="file name or stem of a document in the data directory")
    r.add_argument("--data", metavar="DIR", help=_DATA_HELP)
    r.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    r.set_defaults(func=cmd_remove)

    q = sub.add_parser("sparql", help="run a SPARQL query (SELECT/ASK/CONSTRUCT) over the graph store")
    q.add_argument("query", nargs="?", metavar="QUERY",
                   help="a SPARQL 1.1 query; project prefixes (cchc:, dcterms:, skos:, task:, ...) are predeclared")
    q.add_argument("--file", metavar="F", help="read the query from a file")
    q.add_argument("--format", choices=("table", "csv", "json", "turtle"), default="table",
                   help="table (default), csv or json for SELECT/ASK; turtle or json (JSON-LD) for CONSTRUCT")
    q.add_argument("--data", metavar="DIR", help=_DATA_HELP)
    q.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    q.set_defaults(func=cmd_sparql)

    e = sub.add_parser("export", help="export the graph store")
    e.add_argument("--format", choices=EXPORT_FORMATS, default="trig",
                   help="trig (default), nquads, turtle, jsonld (with an @context), ntriples or graphml")
    e.add_argument("--out", metavar="FILE", help="write here (atomically) instead of stdout")
    e.add_argument("--data", metavar="DIR", help=_DATA_HELP)
    e.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    e.set_defaults(func=cmd_export)

    t = sub.add_parser("trace", help="tasks that trace back to an instrument, and why")
    t.add_argument("ref", metavar="INSTRUMENT", help='e.g. "NĐ 118", "76/NQ-CP", "Luật Ngân sách nhà nước"')
    t.add_argument("--json", action="store_true", help="print {query, instruments, hits, network} as JSON")
    t.add_argument("--max-depth", type=int, default=3, metavar="N",
                   help="hops between instruments followed through the basis network (default 3)")
    t.add_argument("--data", metavar="DIR", help=_DATA_HELP)
    t.add_argument("--store-url", metavar="URL", help=STORE_URL_HELP)
    t.set_defaults(func=cmd_trace)
