"""`cchc search` and `cchc serve`: thin commands over the Application."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date
from typing import Any

from cchc.service.settings import Settings

# Commands import their library modules inside the handler: see `cchc.service.cli` for the measured reason.

log = logging.getLogger(__name__)


SEARCH_HELP = """\
Hybrid search over the tasks and passages of the plans: the question is read for
its structured parts, the rest is matched as text.

  instruments   "nhiệm vụ theo Nghị định 118", "NĐ 118/2025", "QĐ 282", "Đề án 06":
                rows citing it, or in a plan that implements it
  agencies      "Sở Nội vụ chủ trì", "UBND các huyện phối hợp": by role (chủ trì = lead,
                phối hợp = cooperating); abolished agencies also find their successors
  time          "năm 2026", "quý I/2026", "tháng 3/2023", "trước ngày 30/6/2026": by deadline
  fields        "chuyển đổi số", "cải cách thủ tục hành chính": the CCHC field
  topic         any other words: matched by keywords and by meaning

Typing without diacritics works ("nghi dinh 118"). Only results the evidence says
answer are shown: a typed match above, or text that matches the question well;
those on weaker text evidence are marked "weak". A question nothing answers
prints no results (exit 0).

Filters apply with or without a question: `cchc search --agency "Sở Nội vụ"
--deadline-year 2026` lists the tasks of that agency due in 2026.
"""


def _ask_server(url: str, params: dict[str, Any]) -> dict[str, Any]:
    """The answer of a running `cchc serve` at `url` (GET /search): no model or index is opened here."""
    from urllib.error import HTTPError, URLError
    from urllib.parse import urlencode
    from urllib.request import urlopen

    target = f"{url.rstrip('/')}/search?{urlencode({k: v for k, v in params.items() if v not in (None, '')})}"
    try:
        with urlopen(target, timeout=60) as response:
            body = json.loads(response.read().decode("utf-8"))
            body["results"]
            return body
    except HTTPError as exc:
        try:
            detail = json.loads(exc.read().decode("utf-8")).get("detail")
        except ValueError:
            detail = None
        raise ValueError(f"the search server {url} refused the query: {detail or exc}") from None
    except (URLError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"the search server {url} (CCHC_SEARCH_SERVER) did not answer: {exc}") from None


def _filters(args: argparse.Namespace):
    from cchc.search.searcher import Filters, due_window, resolve_agency

    agency = None
    if args.agency:
        agency = resolve_agency(args.agency)
        if agency is None:
            raise ValueError(f"--agency: unknown agency {args.agency!r} (`cchc lineage NAME` shows how one is named)")
    lo, hi = due_window(args.deadline, args.deadline_year, args.deadline_before)
    filters = Filters(year=args.year, agency=agency, field=args.field, due_from=lo, due_to=hi)
    return filters if filters.active else None


def _search_here(settings: Settings, args: argparse.Namespace) -> dict[str, Any]:
    from cchc.service.application import Application

    app = Application(settings)
    app.ensure_built(progress=getattr(args, "progress", False))
    return app.searcher.answer(args.query or "", k=args.k, filters=_filters(args), offset=args.offset).to_json()


def console(**kwargs: Any):
    """A rich Console that, when the output is not a terminal, keeps every line whole (no 80-column cut)."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console(**kwargs)
    return Console(width=100_000, soft_wrap=True, **kwargs)


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if not (args.query or "").strip() and not any(
            (args.year, args.agency, args.field, args.deadline, args.deadline_year, args.deadline_before)):
        raise ValueError("search: give a question, or at least one filter (--year, --agency, --field, --deadline, "
                         "--deadline-year, --deadline-before); see `cchc search --help`")
    if args.field:
        from cchc.service.api import field_concepts

        if args.field not in field_concepts():
            raise ValueError(f"--field: unknown field {args.field!r}; one of {', '.join(field_concepts())}")
    if settings.search_server:
        _filters(args)  # a bad filter is named here, before asking
        body = _ask_server(settings.search_server, {
            "q": args.query or "", "k": args.k, "offset": args.offset, "year": args.year, "agency": args.agency,
            "field": args.field, "deadline": args.deadline, "deadline_year": args.deadline_year,
            "deadline_before": args.deadline_before.isoformat() if args.deadline_before else None})
        log.info("answered by the server at %s", settings.search_server)
    else:
        body = _search_here(settings, args)
    results = body["results"]
    if args.json:
        print(json.dumps(body, ensure_ascii=False, indent=2))
        return 0
    from rich.table import Table

    total = body.get("total", len(results))
    shown = f"{args.offset + 1}-{args.offset + len(results)} of {total}" if results else f"0 of {total}"
    read_as = f" (read as “{body['read_as']}”)" if body.get("read_as") else ""
    table = Table(title=f"“{args.query or ''}”{read_as}: {shown}", show_lines=True)
    for col in ("#", "id", "source", "text", "why"):
        table.add_column(col, overflow="fold")
    for i, r in enumerate(results, args.offset + 1):
        why = "; ".join(r["why"]) + (" [weak]" if r.get("weak") else "")
        table.add_row(str(i), r.get("id") or "", f"{r['doc']}:{r['line']}", r["text"][:240], why)
    out = console()
    if results:
        out.print(table)
    else:
        out.print(f"no result answers “{args.query or ''}”{read_as}" + (" with these filters" if _has_filter(args)
                                                                       else ""))
    return 0


def _has_filter(args: argparse.Namespace) -> bool:
    return any((args.year, args.agency, args.field, args.deadline, args.deadline_year, args.deadline_before))


def port_taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be listened on (already in use, bad address), or None: checked before loading."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            return exc.strerror or str(exc)
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    problem = port_taken(settings.host, settings.port)
    if problem:  # before the indexes and the model load: a taken port is said at once
        print(f"cchc: error: cannot listen on {settings.host}:{settings.port}: {problem}", file=sys.stderr)
        return 2
    import uvicorn
    from cchc.service.app import create_app
    from cchc.service.application import Application
    from cchc.service.http_server import uvicorn_options

    app_obj = Application(settings)
    app_obj.ensure_built(progress=getattr(args, "progress", False))  # build on first start, before serving
    if settings.serve_workers == 1:
        config = uvicorn.Config(create_app(settings, app_obj), host=settings.host, port=settings.port,
                                log_level="warning", **uvicorn_options(settings.header_timeout))
        server = uvicorn.Server(config)
        _announce(server, settings)
        server.run()
        return 0
    return _serve_processes(settings)


def _announce(server, settings: Settings) -> None:
    """Print "listening on http://HOST:PORT" once the server has started (its startup opens the indexes)."""
    startup = server.startup

    async def started(*a: Any, **kw: Any) -> None:
        await startup(*a, **kw)
        if server.started:
            print(f"listening on http://{_url_host(settings.host)}:{settings.port}", flush=True)

    server.startup = started


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _serve_processes(settings: Settings) -> int:
    """`settings.serve_workers` server processes on one listening socket, under uvicorn's supervisor.

    The socket is made here rather than by `uvicorn --workers`: uvicorn binds it
    with protocol 0, so asyncio never sets TCP_NODELAY on the accepted
    connections and each keep-alive response waits ~40 ms for a delayed ACK
    (uvicorn issue #3149; measured in bench/http.md). The processes read the
    settings back from CCHC_* variables.
    """
    import os
    import socket

    import uvicorn
    from cchc.service.http_server import uvicorn_options
    from uvicorn.supervisors import Multiprocess

    os.environ.update(settings.to_env())
    config = uvicorn.Config("cchc.service.app:create_app", factory=True, host=settings.host, port=settings.port,
                            workers=settings.serve_workers, log_level="warning",
                            **uvicorn_options(settings.header_timeout))
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((settings.host, settings.port))
    except OSError as exc:
        print(f"cchc: error: cannot listen on {settings.host}:{settings.port}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    sock.set_inheritable(True)
    print(f"listening on http://{_url_host(settings.host)}:{settings.port} ({settings.serve_workers} processes)",
          flush=True)
    Multiprocess(config, sockets=[sock]).run()
    return 0


def add_data_options(p: argparse.ArgumentParser) -> None:
    """--data/--corpus/--model: where the store and indexes live, what to build them from, which encoder."""
    p.add_argument("--data", metavar="DIR", help="data directory (default ./var, or CCHC_DATA_DIR)")
    p.add_argument("--corpus", metavar="DIR", help="corpus directory (default the embedded data/corpus)")
    p.add_argument("--model", help="encoder: e5-small (default), hashing, a local folder or a hub name")
    p.add_argument("--store-url", metavar="URL",
                   help="the graph in this SPARQL 1.1 server (its query endpoint; or CCHC_STORE_URL)")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("search", help="hybrid search over the corpus (builds the index on first use)",
                       description=SEARCH_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_data_options(s)
    s.add_argument("query", nargs="?", default="",
                   help="the question in Vietnamese, with or without diacritics (may be empty with a filter)")
    s.add_argument("--k", type=int, default=10, help="results per page (default 10)")
    s.add_argument("--offset", type=int, default=0, help="results to skip: the next page is --offset 10")
    s.add_argument("--json", action="store_true",
                   help="print the answer as JSON: {query, read_as, total, offset, results: [{id, doc, line, ...}]}")
    s.add_argument("--year", type=int, help="only the plans of this year (e.g. 2026)")
    s.add_argument("--agency", help="only tasks this agency leads or joins: a name (\"Sở Nội vụ\"), an "
                                    "abbreviation or a registry id")
    s.add_argument("--field", help="only this CCHC field, by id (the-che, thu-tuc-hanh-chinh, chinh-quyen-so, ...)")
    s.add_argument("--deadline", metavar="PERIOD",
                   help="only tasks due in this period: \"quý II/2026\", \"tháng 3/2026\", 2026")
    s.add_argument("--deadline-year", type=int, metavar="YEAR", help="only tasks due in this year")
    s.add_argument("--deadline-before", type=date.fromisoformat, metavar="YYYY-MM-DD",
                   help="only tasks due on or before this date")
    s.add_argument("--server", metavar="URL", dest="search_server",
                   help="ask this running `cchc serve` instead of opening the indexes (or CCHC_SEARCH_SERVER)")
    s.set_defaults(func=cmd_search)

    v = sub.add_parser("serve", help="serve the web page, the HTTP API and /sparql (builds on first start)",
                       description="Serve the web page (/), the JSON API (/docs), and SPARQL (/sparql). Prints "
                                   "\"listening on http://HOST:PORT\" once it answers; a port already in use is "
                                   "reported at once (exit 2).")
    v.add_argument("--host", default=None, help="bind address (default 127.0.0.1, or CCHC_HOST)")
    v.add_argument("--port", type=int, default=None, help="port (default 8765, or CCHC_PORT)")
    v.add_argument("--workers", type=int, default=None, dest="serve_workers",
                   help="server processes (default 1; the CPU count for throughput, ~400 MB each)")
    add_data_options(v)
    v.set_defaults(func=cmd_serve)
