"""Hostile inputs to `cchc extract` / `cchc add`: devices, pipes, oversized files (issue 19, item 5).

Before the fix `cchc extract /dev/zero.txt`-like inputs were read until memory
ran out and a named pipe blocked the reader forever.  Each case runs the real
CLI in a subprocess under a timeout, so a hang fails the test instead of
freezing the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.reading import SourceError, read_source

CORPUS = Path(__file__).resolve().parents[2] / "data" / "corpus"
PLAN = CORPUS / "langson-2026-cchc-phuluc.txt"


def _cchc(*args: str, timeout: float = 60, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cchc.service.cli", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_device_is_refused_without_reading_it() -> None:
    proc = _cchc("extract", "/dev/zero", timeout=30)
    assert proc.returncode == 2
    assert proc.stderr.strip() == ("cchc: error: /dev/zero: not a regular file (a character device); "
                                   "only document files are read")


def test_named_pipe_is_refused_not_waited_on(tmp_path: Path) -> None:
    fifo = tmp_path / "plan.txt"
    os.mkfifo(fifo)  # nobody ever writes to it: opening it for reading would block forever
    proc = _cchc("extract", str(fifo), str(PLAN), "--jsonl", timeout=30)
    assert proc.returncode == 2
    assert f"{fifo}: not a regular file (a named pipe)" in proc.stderr
    assert '"kind": "task"' in proc.stdout  # the good file's records are still printed


def test_symlink_to_a_device_is_refused(tmp_path: Path) -> None:
    link = tmp_path / "plan.txt"
    link.symlink_to("/dev/zero")
    with pytest.raises(SourceError, match="not a regular file"):
        extract_file(link)


def test_size_limit_is_configurable(tmp_path: Path) -> None:
    big = tmp_path / "dump.txt"
    with big.open("wb") as fh:  # 1.5 MiB of NUL bytes: refused on size under 1 MiB, read (and found binary) under 2
        fh.truncate(3 << 19)
    proc = _cchc("extract", "--max-source-mb", "1", str(big), "--jsonl")
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.strip() == (f"cchc: error: {big}: 1.5 MiB is over the 1 MiB limit for a source file "
                                   "(raise it with --max-source-mb or CCHC_MAX_SOURCE_MB)")
    proc = _cchc("extract", str(big), "--jsonl", env={"CCHC_MAX_SOURCE_MB": "2"})
    assert proc.returncode == 2 and "over the" not in proc.stderr and "binary" in proc.stderr


def test_size_limit_holds_for_word_and_pdf_too(tmp_path: Path) -> None:
    pdf = tmp_path / "big.pdf"
    with pdf.open("wb") as fh:  # never opened by the PDF library: refused on its size alone
        fh.truncate(3 << 20)
    with pytest.raises(SourceError, match="over the 2 MiB limit"):
        extract_file(pdf, max_bytes=2 << 20)


def test_add_refuses_a_device_and_changes_nothing(tmp_path: Path) -> None:
    proc = _cchc("add", "--data", str(tmp_path / "data"), "/dev/zero", timeout=30)
    assert proc.returncode == 2 and "/dev/zero" in proc.stderr
    assert not (tmp_path / "data").exists()


def test_read_source_checks_the_open_descriptor(tmp_path: Path) -> None:
    fifo = tmp_path / "late.txt"
    os.mkfifo(fifo)
    with pytest.raises(SourceError, match="named pipe"):
        read_source(fifo)
