"""`cchc add` / `cchc remove` on a built data directory: store, search index, sources and carry-over at once."""

from __future__ import annotations

import shutil
from dataclasses import replace

import numpy as np
import pytest
from cchc.embeddings.index import VectorIndex
from cchc.search.index import read_parts
from cchc.service.application import Application

from .conftest import APPENDIX_2026, CORPUS, TANDOAN_2025


class CountingEncoder:
    """The session's real encoder, counting the passages it is asked to encode."""

    def __init__(self, inner) -> None:
        self.inner, self.passages = inner, 0
        self.model_id, self.dimension = inner.model_id, inner.dimension

    def encode_passages(self, texts):
        self.passages += len(texts)
        return self.inner.encode_passages(texts)

    def encode_queries(self, texts):
        return self.inner.encode_queries(texts)


@pytest.fixture
def live(app, tmp_path):
    """A copy of the session's built data directory, opened by its own application."""
    shutil.copytree(app.settings.data_dir, tmp_path / "data")
    other = Application(replace(app.settings, data_dir=tmp_path / "data"))
    other.__dict__["encoder"] = CountingEncoder(app.encoder)
    return other


def _docs(results) -> set[str]:
    return {r.doc for r in results}


def test_remove_then_add_equals_the_build_and_encodes_only_the_new_document(app, live):
    before = read_parts(app.search_dir)
    query = "Tân Đoàn cải cách hành chính năm 2025"
    assert TANDOAN_2025 in _docs(live.searcher.search(query, k=10))

    live.remove_documents([TANDOAN_2025])
    assert TANDOAN_2025 not in _docs(live.searcher.search(query, k=20))
    assert not (live.sources_dir / TANDOAN_2025).exists()
    assert TANDOAN_2025 not in {r.file for r in live.store.documents()}
    assert live.encoder.passages == 0  # a removal encodes nothing

    for cached in (live.settings.data_dir / "cache").glob("passages-*.npz"):  # else its vectors come from there
        cached.unlink()
    live.__dict__.pop("passage_encoder", None)
    live.add_files([CORPUS / TANDOAN_2025])
    new_units = sum(u.doc == TANDOAN_2025 for u in before.units)
    assert live.encoder.passages == new_units  # only the added document's units were encoded
    assert TANDOAN_2025 in _docs(live.searcher.search(query, k=10))

    after = read_parts(live.search_dir)
    assert [u.key for u in after.units] == [u.key for u in before.units]  # corpus order, as a build writes it
    assert after.titles == before.titles and after.instruments == before.instruments
    assert np.allclose(after.vectors, before.vectors, atol=1e-5)
    assert VectorIndex.load(live.search_dir / "vectors").index.ntotal == len(before.units)


def test_a_removed_plan_vanishes_from_trace_sparql_and_carryover(live):
    count = "SELECT (COUNT(*) AS ?n) WHERE { ?later cchc:continues ?earlier }"
    links = int(next(iter(live.store.query(count)))[0])
    assert links > 40
    live.remove_documents([APPENDIX_2026])
    assert int(next(iter(live.store.query(count)))[0]) == 0
    assert all(p.later.doc != APPENDIX_2026 for p in live.carryover.pairs)
    assert all(r.doc != APPENDIX_2026 for r in live.searcher.search("Nghị định 118/2025/NĐ-CP", k=20))
    live.add_files([CORPUS / APPENDIX_2026])
    assert live.encoder.passages == 0  # its units and tasks come back from the passage cache
    assert int(next(iter(live.store.query(count)))[0]) == links
    hits = live.searcher.search("Nghị định 118/2025/NĐ-CP", k=5)
    assert hits[0].doc == APPENDIX_2026 and hits[0].section == "III" and hits[0].no == "9"


def test_a_running_application_follows_another_process_change(app, live, tmp_path):
    """The server's application object sees an add published by `cchc add` in another process."""
    server = Application(live.settings)
    server.__dict__["encoder"] = app.encoder
    assert TANDOAN_2025 in _docs(server.searcher.search("Tân Đoàn", k=10))
    server.refresh()
    live.remove_documents([TANDOAN_2025])  # the other process
    server.refresh()
    assert TANDOAN_2025 not in _docs(server.searcher.search("Tân Đoàn", k=20))
    assert TANDOAN_2025 not in {r.file for r in server.store.documents()}


def test_unknown_document_and_bad_file_change_nothing(live, tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\x00\x01binary")
    units = (live.search_dir / "units.jsonl").read_bytes()
    with pytest.raises(ValueError, match=r"nope\.txt: no such document in the store"):
        live.remove_documents(["nope.txt"])
    with pytest.raises(ValueError, match=r"bad\.txt"):
        live.add_files([CORPUS / TANDOAN_2025, bad])
    assert (live.search_dir / "units.jsonl").read_bytes() == units
    assert live.encoder.passages == 0
