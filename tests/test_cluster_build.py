"""A build on a Dask LocalCluster of two workers equals the single-process build (issue 16, service/cluster.py).

The whole build runs with the hashing encoder (the real model would take minutes per build on 2 cores); the
real model's vectors from two workers are compared with the in-process model on a sample of the corpus' units.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cchc.graph.corpus import corpus_files, load_manifest
from cchc.graph.extract.documents import extract_file
from cchc.graph.extract.reading import SourceError
from cchc.search.index import read_parts
from cchc.service.application import Application
from cchc.service.cli import _records
from cchc.service.settings import Settings

from tests.conftest import APPENDIX_2026, CORPUS

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def cluster():
    from cchc.service.cluster import BuildCluster

    with BuildCluster(workers=2) as c:
        yield c


def _jsonl(extractions) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for ex in extractions for r in _records(ex))


def _build(data: Path, cluster=None) -> Application:
    app = Application(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing"))
    if cluster is not None:
        app.__dict__["cluster"] = cluster  # one cluster for the module, not one per build
    app.build()
    return app


def test_two_workers_extract_what_one_process_does(cluster, tmp_path):
    files = corpus_files(CORPUS)
    manifest = load_manifest(CORPUS)
    infos = [manifest.get(p.name) for p in files]
    assert cluster.workers == 2
    one = [extract_file(p, info) for p, info in zip(files, infos, strict=True)]
    two = cluster.extract(files, infos, tmp_path / "cache")
    assert _jsonl(two) == _jsonl(one)  # byte for byte: what `cchc extract --jsonl` prints
    # Only new or changed documents go to the workers: a second pass is all cache hits, even with no cluster.
    entries = sorted((tmp_path / "cache" / "extractions").iterdir())
    assert len(entries) == len(files)
    stamps = [e.stat().st_mtime_ns for e in entries]
    again = cluster.extract(files, infos, tmp_path / "cache")
    assert _jsonl(again) == _jsonl(one)
    assert [e.stat().st_mtime_ns for e in sorted((tmp_path / "cache" / "extractions").iterdir())] == stamps


@pytest.fixture(scope="module")
def single(tmp_path_factory) -> Application:
    """The single-process build of the embedded corpus (hashing encoder): what every cluster build must equal."""
    return _build(tmp_path_factory.mktemp("single"))


def _same_build(one: Application, two: Application) -> None:
    a, b = read_parts(one.search_dir), read_parts(two.search_dir)
    assert [u.key for u in a.units] == [u.key for u in b.units]
    assert [u.index_text for u in a.units] == [u.index_text for u in b.units]
    assert a.model_id == b.model_id == "hashing-256-ng34"
    assert a.vectors is not None and b.vectors is not None
    assert np.allclose(a.vectors, b.vectors, atol=1e-6)
    assert a.titles == b.titles and a.instruments == b.instruments
    assert one.store.counts() == two.store.counts()
    assert len(one.carryover.pairs) == len(two.carryover.pairs)


def test_two_workers_build_the_same_index(cluster, single, tmp_path):
    _same_build(single, _build(tmp_path / "two", cluster))


def test_add_on_two_workers_equals_the_single_process_add(cluster, single, tmp_path):
    """`cchc add --workers 2`: the new document extracted and its (new) unit texts encoded on the workers."""
    doc = tmp_path / "langson-2027-cchc-phuluc.txt"
    doc.write_text((CORPUS / APPENDIX_2026).read_text("utf-8").replace("2026", "2027"), "utf-8")
    added = []
    for name, on in (("one", None), ("two", cluster)):
        data = tmp_path / name
        shutil.copytree(single.settings.data_dir, data, symlinks=True)
        app = Application(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing"))
        if on is not None:
            app.__dict__["cluster"] = on
        app.add_files([doc])
        added.append(app)
    _same_build(*added)
    assert len(read_parts(added[1].search_dir).units) > len(read_parts(single.search_dir).units)


def test_build_on_a_cluster_by_address(single, tmp_path):
    """A cluster started apart (`dask scheduler`, `dask worker`), named by address as a real one would be."""
    dask = Path(sys.executable).with_name("dask")
    info = tmp_path / "scheduler.json"
    common = ["--no-dashboard", "--host", "127.0.0.1"]
    procs = [subprocess.Popen([dask, "scheduler", "--scheduler-file", info, "--port", "0", *common],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        deadline = time.monotonic() + 60
        while not info.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        procs.append(subprocess.Popen([dask, "worker", address, "--nworkers", "2", "--nthreads", "1", *common],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        data = tmp_path / "data"
        proc = subprocess.run([sys.executable, "-m", "cchc.service.cli", "build", "--model", "hashing", "--data",
                               str(data)], env={**os.environ, "CCHC_CLUSTER": address}, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout.startswith(f"built {data}: 5 documents, ")
        _same_build(single, Application(Settings(corpus_dir=CORPUS, data_dir=data, model="hashing")))
    finally:
        for p in reversed(procs):
            p.terminate()
            p.wait(timeout=60)


def test_real_model_on_two_workers(cluster, e5_encoder, tmp_path):
    """Each worker loads multilingual-e5-small once; its vectors match the in-process model's."""
    from cchc.embeddings.encoder import DEFAULT_MODEL_ID

    ex = extract_file(CORPUS / APPENDIX_2026, load_manifest(CORPUS).get(APPENDIX_2026))
    texts = [u.text for u in ex.units][:96]
    enc = cluster.encoder("e5-small", tmp_path)
    assert enc.model_id == DEFAULT_MODEL_ID
    got = enc.encode_passages(texts)
    want = e5_encoder.encode_passages(texts)
    assert got.shape == want.shape == (len(texts), enc.dimension)
    assert np.allclose(got, want, atol=1e-4), float(np.abs(got - want).max())


def test_worker_error_names_file_and_line(cluster, tmp_path):
    bad = tmp_path / "corpus" / "bad.txt"
    bad.parent.mkdir()
    bad.write_bytes("Dòng một\n".encode() + b"D\xf2ng hai\n")
    with pytest.raises(SourceError) as err:
        cluster.extract([CORPUS / APPENDIX_2026, bad], [None, None], None)
    assert str(err.value).startswith(f"{bad}:2: ") and "undecodable" in str(err.value)


def test_cli_build_on_two_workers_fails_cleanly(tmp_path):
    """`cchc build --workers 2` on a corpus with a bad file: one error line, exit 2, nothing published."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / APPENDIX_2026).write_bytes((CORPUS / APPENDIX_2026).read_bytes())
    bad = corpus / "bad.txt"
    bad.write_bytes("Dòng một\n".encode() + b"D\xf2ng hai\n")
    data = tmp_path / "data"
    proc = subprocess.run([sys.executable, "-m", "cchc.service.cli", "build", "--workers", "2", "--model", "hashing",
                           "--corpus", str(corpus), "--data", str(data)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("cchc: error:")]
    assert len(errors) == 1 and errors[0].startswith(f"cchc: error: {bad}:2: ") and "undecodable" in errors[0], \
        proc.stderr
    assert proc.stdout == ""
    assert not (data / "CURRENT").exists()


def test_settings_refuse_a_bad_cluster():
    with pytest.raises(ValueError, match="scheduler address"):
        Settings(cluster="http://host:8786")
    with pytest.raises(ValueError, match="not both"):
        Settings(cluster="tcp://host:8786", build_workers=2)
    assert Settings.from_env({"CCHC_CLUSTER": "tcp://10.0.0.5:8786"}).cluster == "tcp://10.0.0.5:8786"
    assert Settings.from_env({"CCHC_BUILD_WORKERS": "2"}).build_workers == 2


def test_single_process_build_never_imports_dask():
    code = ("import sys; from cchc.service.application import Application; from cchc.service.settings import "
            "Settings; assert Application(Settings()).cluster is None; "
            "assert not [m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed')], 'dask imported'")
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
