"""The `cchc` command: a thin layer that builds library objects and prints.

Bad input ends with one line naming the file and the problem and exit code 2;
nothing is printed on stdout before every input has been read, so a failed
run never leaves half an output behind.

Each command imports the library modules it runs inside its handler, not at the
top: measured on 2 cores, importing the extractor costs 0.3 s, the store 0.5 s,
the searcher 0.8 s and the HTTP app 2.3 s, so `cchc extract` or `cchc --help`
would otherwise pay for `cchc serve`.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from cchc.graph.corpus import load_manifest
from cchc.graph.extract.reading import SourceError
from cchc.service.settings import MAX_SOURCE_HELP, Settings

log = logging.getLogger("cchc")


def _records(ex) -> list[dict]:
    rows = [t.to_json() for t in ex.tasks] + [c.to_json() for c in ex.citations]
    rows += [u.to_json() for u in ex.units] + [t.to_json() for t in ex.targets]
    if ex.line_pages:  # Word and PDF: `line` counts the reader's text; say on which page it is
        for r in rows:
            if "page" not in r and ex.page_of(r["line"]) is not None:
                r["page"] = ex.page_of(r["line"])
    order = {"task": 0, "citation": 1, "unit": 2, "target": 3}
    rows.sort(key=lambda r: (order[r["kind"]], r["line"]))
    return ([ex.identity.to_json()] if ex.identity else []) + rows


def cmd_extract(args: argparse.Namespace, settings: Settings) -> int:
    """Extract every file; a file that fails is reported on stderr and the others are still printed (exit 2)."""
    from cchc.graph.extract.documents import extract_file

    extractions, failed = [], 0
    t0 = time.perf_counter()
    for name in args.files:
        path = Path(name)
        try:
            manifest = load_manifest(path.parent) if path.parent.is_dir() else {}
            extractions.append(extract_file(path, manifest.get(path.name), settings.max_source_bytes))
        except (SourceError, ValueError) as exc:  # one file's problem never hides the others' records
            print(f"cchc: error: {exc}", file=sys.stderr)
            failed += 1
    log.info("extracted %d files in %.2fs", len(extractions), time.perf_counter() - t0)
    status = 2 if failed else 0
    if args.jsonl:
        out = sys.stdout
        for ex in extractions:
            out.write("".join(json.dumps(rec, ensure_ascii=False) + "\n" for rec in _records(ex)))
        return status
    from cchc.service.cli_search import console as make_console
    from rich.table import Table

    console = make_console()
    for ex in extractions:
        table = Table(title=f"{ex.doc} ({ex.kind}): {len(ex.tasks)} tasks, {len(ex.citations)} citations",
                      show_lines=True)
        for col in ("line", "key", "content", "lead", "cooperating", "timeline", "cites"):
            table.add_column(col, overflow="fold")
        for t in ex.tasks:
            key = f"{t.section or ''}.{t.no or ''}"
            table.add_row(str(t.span.line), key, t.content[:160], "; ".join(t.lead), "; ".join(t.cooperating),
                          t.timeline or "", ", ".join(t.cites))
        console.print(table)
    return status


# Settings fields that subcommands may set by flag (flag dest -> field): flags beat CCHC_* variables.
_SETTING_FLAGS = {"data_dir": "data", "corpus_dir": "corpus", "host": "host", "port": "port", "model": "model",
                  "serve_workers": "serve_workers", "search_server": "search_server",
                  "max_source_mb": "max_source_mb", "store_url": "store_url", "build_workers": "build_workers",
                  "cluster": "cluster"}


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="cchc", description="Knowledge graph and Vietnamese search over CCHC plans.")
    p.add_argument("-v", "--verbose", action="count", default=0,
                   help="log to stderr (-v info, -vv debug); quiet by default: warnings and errors only")
    sub = p.add_subparsers(dest="command", required=True)

    e = sub.add_parser("extract", help="extract tasks, citations, units and targets from .txt, .md, .docx, .pdf")
    e.add_argument("files", nargs="+", metavar="FILE", help="documents: .txt, .md, .docx, .pdf (text or scanned)")
    e.add_argument("--jsonl", action="store_true", help="one JSON record per line on stdout")
    e.add_argument("--max-source-mb", type=int, metavar="MIB", help=MAX_SOURCE_HELP)
    e.set_defaults(func=cmd_extract)

    from cchc.service import cli_carryover, cli_graph, cli_search

    cli_search.register(sub)
    cli_graph.register(sub)
    cli_carryover.register(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = [logging.WARNING, logging.INFO, logging.DEBUG][min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    # Progress bars are for a person watching: shown on a terminal or with -v, never into a log or a pipe.
    args.progress = bool(args.verbose) or sys.stderr.isatty()
    try:
        flags = {name: getattr(args, flag, None) for name, flag in _SETTING_FLAGS.items()}
        settings = Settings.from_env(**flags)
        for name in ("data_dir", "corpus_dir"):
            if flags[name] is not None:
                settings = replace(settings, **{name: Path(flags[name])})
        return int(args.func(args, settings) or 0)
    except SourceError as exc:
        print(f"cchc: error: {exc}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"cchc: error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:  # a missing or unreadable file named on the command line: one line, no traceback
        where = f"{exc.filename}: " if exc.filename else ""
        print(f"cchc: error: {where}{exc.strerror or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
