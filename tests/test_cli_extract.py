"""`cchc extract`: the contract output, and clean failures on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from cchc.service.cli import main

from .conftest import APPENDIX_2026, CORPUS, TANDOAN_2025


def _run(args: list[str], capsys) -> tuple[int, str, str]:
    code = main(args)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_jsonl_contract_fields(capsys):
    code, out, _ = _run(["extract", str(CORPUS / APPENDIX_2026), str(CORPUS / TANDOAN_2025), "--jsonl"], capsys)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    tasks = [r for r in rows if r["kind"] == "task"]
    cites = [r for r in rows if r["kind"] == "citation"]
    for r in tasks:
        assert {"doc", "line", "section", "no", "content", "product", "lead", "cooperating", "timeline",
                "cites"} <= r.keys()
    for r in cites:
        assert {"doc", "line", "id", "type", "issuer", "date", "title", "surface"} <= r.keys()
    row = next(r for r in tasks if r["doc"] == APPENDIX_2026 and (r["section"], r["no"]) == ("III", "9"))
    assert row["cites"] == ["118/2025/NĐ-CP"]
    assert row["lead"] == ["Văn phòng UBND tỉnh"]
    assert row["cooperating"] == ["Các sở, ban, ngành", "UBND các xã, phường"]
    assert any(c["doc"] == TANDOAN_2025 and c["id"] == "118/2025/NĐ-CP" and c["date"] == "2025-06-09" for c in cites)


def test_readable_table_without_jsonl(capsys):
    code, out, _ = _run(["extract", str(CORPUS / APPENDIX_2026)], capsys)
    assert code == 0
    assert "49 tasks" in out


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    empty = tmp_path / "empty.txt"
    empty.write_text("")
    binary = tmp_path / "image.txt"
    binary.write_bytes(bytes(range(256)) * 4)
    latin = tmp_path / "latin1.txt"
    latin.write_bytes("Kế hoạch số 02/KH-UBND".encode() + b"\n\xe9\xe8 caf\xe9\n")
    notable = tmp_path / "notes.txt"
    notable.write_text("ghi chú không có bảng\nchỉ là văn bản thường\n", encoding="utf-8")
    return {
        "empty": (empty, "empty file"),
        "binary": (binary, "binary file"),
        "undecodable": (latin, "undecodable bytes"),
        "no table": (notable, "no task table"),
        "directory": (tmp_path, "is a directory"),
        "missing": (tmp_path / "nope.txt", "no such file"),
    }


@pytest.mark.parametrize("case", ["empty", "binary", "undecodable", "no table", "directory", "missing"])
def test_bad_input_one_line_exit_2_others_still_written(tmp_path, case):
    path, problem = _bad_inputs(tmp_path)[case]
    # A good file first: one file's problem never hides the others' records, each printed whole.
    proc = subprocess.run(
        [sys.executable, "-m", "cchc.service.cli", "extract", str(CORPUS / APPENDIX_2026), str(path), "--jsonl"],
        capture_output=True, text=True,
    )
    assert proc.returncode == 2
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert {r["doc"] for r in rows} == {APPENDIX_2026}
    assert sum(1 for r in rows if r["kind"] == "task") == 49
    err = proc.stderr.strip().splitlines()
    assert len(err) == 1, err
    assert str(path) in err[0] and problem in err[0]


def test_undecodable_error_names_the_line(tmp_path):
    path, _ = _bad_inputs(tmp_path)["undecodable"]
    proc = subprocess.run([sys.executable, "-m", "cchc.service.cli", "extract", str(path)],
                          capture_output=True, text=True)
    assert f"{path}:2:" in proc.stderr


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-le"])
def test_bom_and_utf16_read_like_utf8(tmp_path, capsys, encoding):
    text = (CORPUS / APPENDIX_2026).read_text("utf-8")
    path = tmp_path / APPENDIX_2026
    path.write_bytes(text.encode(encoding))
    code, out, _ = _run(["extract", str(path), "--jsonl"], capsys)
    assert code == 0
    assert sum(1 for line in out.splitlines() if '"kind": "task"' in line) == 49
