"""The persistent store: layout, atomic and incremental changes, one writer, exports that round-trip."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from cchc.graph.corpus import load_manifest
from cchc.graph.rdf import generations
from cchc.graph.rdf.store import Store, StoreError, file_sha256
from rdflib import Dataset, Graph, URIRef
from rdflib.compare import isomorphic

from .conftest import APPENDIX_2023, CORPUS, TANDOAN_2025
from .test_graph_build import BASE, corpus_documents


def documents_with_hashes(extractions) -> list:
    manifest = load_manifest(CORPUS)
    return [(ex, manifest.get(name), file_sha256(CORPUS / name)) for name, ex in sorted(extractions.items())]


def by_graph(store: Store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = defaultdict(set)
    for q in store.quads():
        out[q.graph_name.value].add(str(q.triple))
    return dict(out)


@pytest.fixture
def disk_store(extractions, tmp_path) -> Store:
    store = Store(tmp_path / "store")
    store.build(documents_with_hashes(extractions))
    return store


def test_layout_manifest_and_reopening(disk_store, tmp_path):
    root = tmp_path / "store"
    gen = (root / "CURRENT").read_text().strip()
    assert gen == "g000001" and (root / gen / "oxigraph").is_dir()
    manifest = json.loads((root / gen / "manifest.json").read_text("utf-8"))
    doc = manifest["documents"]["tandoan-2025-cchc"]
    assert doc["sha256"] == file_sha256(CORPUS / TANDOAN_2025) and doc["file"] == TANDOAN_2025
    assert doc["graph"] == BASE + "graph/doc/tandoan-2025-cchc" and doc["counts"]["tasks"] == 42
    assert manifest["counts"] == disk_store.counts()
    reader = Store.open(root, create=False)
    assert [d.stem for d in reader.documents()] == sorted(manifest["documents"])
    assert reader.query("ASK { ?t a cchc:Task ; cchc:rowNumber \"9\" }").askAnswer
    assert sorted(reader.graph_names()) == sorted(
        [d["graph"] for d in manifest["documents"].values()]
        + [BASE + "graph/agencies", BASE + "graph/instruments", BASE + "graph/ontology"])
    with pytest.raises(StoreError, match="base IRI"):
        Store.open(root, base="http://example.org/other/")
    with pytest.raises(StoreError, match="no graph store"):
        Store.open(tmp_path / "missing", create=False)


def test_builds_are_deterministic_on_disk_and_in_memory(disk_store, extractions):
    memory = Store(None)
    memory.build(documents_with_hashes(extractions))
    assert by_graph(memory) == by_graph(disk_store)


def test_remove_then_add_back_matches_a_fresh_build(disk_store, extractions, tmp_path):
    before = by_graph(disk_store)
    tandoan = BASE + "graph/doc/tandoan-2025-cchc"
    disk_store.remove_document(TANDOAN_2025)
    after = by_graph(disk_store)
    assert tandoan not in after
    for graph, quads in before.items():  # every other document graph is untouched
        if "/graph/doc/" in graph and graph != tandoan:
            assert after[graph] == quads, graph
    # the instruments graph is recomputed: 42/2022/NĐ-CP has one printed issuer left, so it gets passed_by
    assert disk_store.query(
        'ASK { ?i dcterms:identifier "42/2022/NĐ-CP" ; eli:passed_by ?who }').askAnswer
    assert disk_store.counts()["documents"] == 4
    ex = extractions[TANDOAN_2025]
    disk_store.add_document(ex, load_manifest(CORPUS).get(TANDOAN_2025), file_sha256(CORPUS / TANDOAN_2025))
    fresh = Store(tmp_path / "fresh")
    fresh.build(documents_with_hashes(extractions))
    assert by_graph(disk_store) == by_graph(fresh)
    assert isomorphic(disk_store.graph(ontology=True), fresh.graph(ontology=True))
    assert disk_store.counts() == fresh.counts()
    assert sorted(p.name for p in (tmp_path / "store").iterdir()) == ["CURRENT", "LOCK", "g000002", "g000003"]


def test_a_failed_write_leaves_the_previous_store(disk_store, tmp_path, monkeypatch):
    root = tmp_path / "store"
    before, counts = by_graph(disk_store), disk_store.counts()

    def boom(*_a, **_k):
        raise RuntimeError("disk full")

    monkeypatch.setattr("cchc.graph.rdf.shared.instrument_triples", boom)  # fails mid-way, after the doc graph changed
    with pytest.raises(RuntimeError, match="disk full"):
        disk_store.remove_document(APPENDIX_2023)
    monkeypatch.undo()
    monkeypatch.setattr(generations, "publish", lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):  # interrupted after the new generation was complete
        disk_store.remove_document(APPENDIX_2023)
    monkeypatch.undo()
    assert sorted(p.name for p in root.iterdir()) == ["CURRENT", "LOCK", "g000001"]
    reopened = Store.open(root, create=False)
    assert by_graph(reopened) == before == by_graph(disk_store)
    assert reopened.counts() == counts


def test_one_writer_at_a_time_and_readers_keep_their_generation(disk_store, tmp_path):
    root = tmp_path / "store"
    reader = Store.open(root, create=False)
    with generations.writer_lock(root), pytest.raises(StoreError, match="one writer at a time"):
        disk_store.remove_document(TANDOAN_2025)
    other_writer = Store.open(root)
    other_writer.remove_document(TANDOAN_2025)
    assert reader.counts()["documents"] == 5  # still on the generation it opened, and usable
    assert len(reader.select("SELECT ?d WHERE { ?d a cchc:Plan }")) == 3
    assert reader.refresh() and reader.counts()["documents"] == 4
    with pytest.raises(StoreError, match="no such document"):
        disk_store.remove_document(TANDOAN_2025)  # the stale writer catches up before writing


def test_export_round_trips(extractions, tmp_path):
    store = Store(None)
    store.build(corpus_documents(extractions))
    turtle = tmp_path / "kg.ttl"
    store.export("turtle", turtle)
    assert isomorphic(Graph().parse(turtle, format="turtle"), store.graph(ontology=True))
    trig = tmp_path / "kg.trig"
    store.export("trig", trig)
    ds = Dataset()
    ds.parse(trig, format="trig")
    names = {str(g.identifier) for g in ds.graphs() if len(g)}
    assert names == set(store.graph_names())
    for name in (BASE + "graph/doc/langson-2026-cchc-phuluc", BASE + "graph/instruments", BASE + "graph/ontology"):
        assert isomorphic(ds.graph(URIRef(name)), store.graph(name)), name
    nquads = store.export("nquads")
    assert nquads is not None and len(nquads.splitlines()) == store.counts()["triples"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kg.trig", "kg.ttl"]  # no temporary files left
    with pytest.raises(ValueError, match="unknown export format"):
        store.export("xml")


def test_put_graph_refuses_document_graphs(extractions):
    store = Store(None)
    store.build(corpus_documents(extractions))
    with pytest.raises(StoreError):
        store.put_graph(BASE + "graph/doc/tandoan-2025-cchc", [])


def test_sparql_runs_a_proven_cheap_query_in_process_until_the_data_changes(disk_store):
    """A query a worker answered quickly runs in the server next time, with the same answer; a new generation
    sends it back to a worker once (what was cheap on the old data is not proven on the new)."""
    from cchc.service.sparql_http import SparqlService
    from rdflib import RDF

    service = SparqlService(disk_store, workers=1)
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?t a cchc:Task }"
    try:
        first, second = service.run(query, "text/csv"), service.run(query, "text/csv")
        assert (first.where, second.where) == ("worker", "server") and first.body == second.body == b"n\r\n249\r\n"
        task = URIRef(BASE + "task/test-extra")
        disk_store.put_graph(BASE + "graph/carryover/test", [(task, RDF.type, URIRef(BASE + "ontology#Task"))])
        third = service.run(query, "text/csv")
        assert third.where == "worker" and third.body == b"n\r\n250\r\n"
        assert service.run(query, "text/csv").where == "server"
    finally:
        service.close()


def test_a_stage_publishes_several_changes_and_files_at_once_or_nothing(disk_store, tmp_path):
    """`stage()`: several changes plus a caller's files in one generation; without `commit`, nothing is published."""
    root = tmp_path / "store"
    reader = Store.open(root, create=False)
    with disk_store.stage() as staged:
        staged.remove_document(TANDOAN_2025)
        staged.remove_document(APPENDIX_2023)
        (staged.path / "extra.json").write_text("{}")  # a product of the caller's, beside the graph
        assert staged.previous == root / "g000001" and generations.current(root) == "g000001"
        assert reader.counts()["documents"] == 5 and not reader.refresh()  # nothing visible before commit
        staged.commit(lambda path: (path / "extra.json").exists() or pytest.fail("check sees the files"))
    assert generations.current(root) == "g000002" and (root / "g000002" / "extra.json").exists()
    assert reader.refresh() and reader.counts()["documents"] == 3 and disk_store.counts()["documents"] == 3
    with disk_store.stage() as staged:  # left without commit: discarded
        staged.remove_document("langson-2026-cchc-phuluc.txt")
    with pytest.raises(RuntimeError, match="refused"), disk_store.stage() as staged:
        staged.remove_document("langson-2026-cchc-phuluc.txt")
        staged.commit(lambda path: (_ for _ in ()).throw(RuntimeError("refused by the check")))
    assert generations.current(root) == "g000002" and disk_store.counts()["documents"] == 3
    assert sorted(p.name for p in root.iterdir()) == ["CURRENT", "LOCK", "g000001", "g000002"]


def test_clean_removes_a_dead_writers_leftovers_only_when_no_writer_is_at_work(disk_store, tmp_path):
    root = tmp_path / "store"
    disk_store.remove_document(TANDOAN_2025)  # g000002 live, g000001 kept for readers
    for dead in ("g000003", "g000004"):  # what killed writers leave: unpublished generations, a temporary file
        (root / dead / "oxigraph").mkdir(parents=True)
    (root / ".CURRENT.123.tmp").write_text("g000004\n")
    with generations.writer_lock(root):
        assert not generations.clean(root)  # a writer at work: its generation is not a leftover
    assert (root / "g000004").exists()
    assert generations.clean(root)
    assert sorted(p.name for p in root.iterdir()) == ["CURRENT", "LOCK", "g000001", "g000002"]
    assert Store.open(root, create=False).counts()["documents"] == 4
