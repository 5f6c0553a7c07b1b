"""`cchc search` and `cchc serve`: thin commands over the Application."""

from __future__ import annotations

import argparse
import json
import logging
import sys

from cchc.service.settings import Settings

# Commands import their library modules inside the handler: see `cchc.service.cli` for the measured reason.

log = logging.getLogger(__name__)


def _ask_server(url: str, query: str, k: int) -> list[dict]:
    """The results of a running `cchc serve` at `url` (GET /search): no model or index is opened here."""
    from urllib.error import URLError
    from urllib.parse import urlencode
    from urllib.request import urlopen

    target = f"{url.rstrip('/')}/search?{urlencode({'q': query, 'k': k})}"
    try:
        with urlopen(target, timeout=60) as response:
            return json.loads(response.read().decode("utf-8"))["results"]
    except (URLError, OSError, ValueError, KeyError) as exc:
        raise ValueError(f"the search server {url} (CCHC_SEARCH_SERVER) did not answer: {exc}") from None


def _search_here(settings: Settings, query: str, k: int) -> list[dict]:
    from cchc.service.application import Application

    app = Application(settings)
    app.ensure_built(progress=True)
    return [r.to_json() for r in app.searcher.search(query, k=k)]


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    if settings.search_server:
        results = _ask_server(settings.search_server, args.query, args.k)
        print(f"cchc: answered by the server at {settings.search_server}", file=sys.stderr)
    else:
        results = _search_here(settings, args.query, args.k)
    if args.json:
        print(json.dumps({"query": args.query, "results": results}, ensure_ascii=False, indent=2))
        return 0
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"“{args.query}”", show_lines=True)
    for col in ("#", "source", "text", "why"):
        table.add_column(col, overflow="fold")
    for i, r in enumerate(results, 1):
        where = f"{r['doc']}:{r['line']}" + (f"\n{r['section']}.{r['no']}" if r["section"] else "")
        table.add_row(str(i), where, r["text"][:240], "; ".join(r["why"]))
    Console().print(table)
    return 0


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn
    from cchc.service.app import create_app
    from cchc.service.application import Application
    from cchc.service.http_server import uvicorn_options

    app_obj = Application(settings)
    app_obj.ensure_built(progress=True)  # build on first start, with progress, before serving
    if settings.serve_workers == 1:
        uvicorn.run(create_app(settings, app_obj), host=settings.host, port=settings.port, log_level="warning",
                    **uvicorn_options(settings.header_timeout))
        return 0
    return _serve_processes(settings)


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
        log.error("cannot listen on %s:%d: %s", settings.host, settings.port, exc)
        return 1
    sock.set_inheritable(True)
    log.warning("serving on http://%s:%d with %d processes", settings.host, settings.port, settings.serve_workers)
    Multiprocess(config, sockets=[sock]).run()
    return 0


def add_data_options(p: argparse.ArgumentParser) -> None:
    """--data/--corpus/--model: where the store and indexes live, what to build them from, which encoder."""
    p.add_argument("--data", metavar="DIR", help="data directory (default ./var, or CCHC_DATA_DIR)")
    p.add_argument("--corpus", metavar="DIR", help="corpus directory (default the embedded data/corpus)")
    p.add_argument("--model", help="encoder: e5-small (default), hashing, a local folder or a hub name")


def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("search", help="hybrid search over the corpus (builds the index on first use)")
    add_data_options(s)
    s.add_argument("query")
    s.add_argument("--k", type=int, default=10)
    s.add_argument("--json", action="store_true")
    s.add_argument("--server", metavar="URL", dest="search_server",
                   help="ask this running `cchc serve` instead of opening the indexes (or CCHC_SEARCH_SERVER)")
    s.set_defaults(func=cmd_search)

    v = sub.add_parser("serve", help="serve the HTTP API (builds graph and indexes on first start)")
    v.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    v.add_argument("--port", type=int, default=None)
    v.add_argument("--workers", type=int, default=None, dest="serve_workers",
                   help="server processes (default 1; the CPU count for throughput, ~400 MB each)")
    add_data_options(v)
    v.set_defaults(func=cmd_serve)
