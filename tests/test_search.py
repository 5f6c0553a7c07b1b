"""Hybrid search on the real corpus with the real default model."""

from __future__ import annotations

import numpy as np
import pytest
from cchc.search.query import parse_query
from cchc.search.searcher import Filters

from .conftest import APPENDIX_2023, APPENDIX_2026, TANDOAN_2025


@pytest.mark.parametrize(
    ("query", "kind", "number", "year"),
    [
        ("nhiệm vụ theo Nghị định 118", "Nghị định", "118", None),
        ("NĐ 118", "Nghị định", "118", None),
        ("nghi dinh 118/2025", "Nghị định", "118", "2025"),
        ("QĐ 282", "Quyết định", "282", None),
        ("NQ 76", "Nghị quyết", "76", None),
        ("chỉ thị 43/CT-TTg", "Chỉ thị", "43", None),
    ],
)
def test_loose_instrument_references(query, kind, number, year):
    (ref,) = parse_query(query).instruments
    assert (ref.type, ref.number, ref.year) == (kind, number, year)


def test_month_is_time_not_a_document_number():
    q = parse_query("nhiệm vụ làm trong tháng 3/2023")
    assert not q.instruments
    assert [d.isoformat() for d in q.period] == ["2023-03-01", "2023-03-31"]


def test_agency_role_and_field_in_query():
    q = parse_query("Sở Tư pháp chủ trì cải cách thể chế năm 2026")
    assert q.agencies == ["so-tu-phap"] and q.role == "lead" and q.year == 2026
    assert [f.rsplit("/", 1)[-1] for f in q.fields] == ["the-che"]


@pytest.mark.slow
@pytest.mark.parametrize("query", ["nhiệm vụ theo Nghị định 118", "nhiem vu theo nghi dinh 118", "NĐ 118/2025/NĐ-CP"])
def test_decree_118_tasks_come_first_with_why(searcher, query):
    results = searcher.search(query, k=10)
    row = next(r for r in results[:2] if r.doc == APPENDIX_2026)
    assert (row.section, row.no, row.line) == ("III", "9", 841)
    assert "cites 118/2025/NĐ-CP" in row.why
    assert any(r.doc == TANDOAN_2025 and "cites 118/2025/NĐ-CP" in r.why for r in results[:2])


@pytest.mark.slow
def test_agency_lead_with_year(searcher):
    results = searcher.search("Sở Tư pháp chủ trì nhiệm vụ nào năm 2026", k=10)
    assert results and all("lead: Sở Tư pháp" in r.why for r in results[:5])
    assert results[0].doc == APPENDIX_2026


@pytest.mark.slow
def test_lineage_finds_the_successor_and_says_so(searcher):
    """Sở TT&TT no longer exists in 2026; its duties moved to Sở Khoa học và Công nghệ."""
    results = searcher.search("Sở Thông tin và Truyền thông chủ trì nhiệm vụ năm 2026", k=5)
    assert results[0].doc == APPENDIX_2026
    assert any("Sở Khoa học và Công nghệ" in w and "successor of" in w for w in results[0].why)


@pytest.mark.slow
def test_deadline_quarter(searcher):
    results = searcher.search("nhiệm vụ hoàn thành trong quý I/2026", k=3)
    for r in results:
        assert r.doc == APPENDIX_2026 and any("within the period" in w for w in r.why)


@pytest.mark.slow
def test_filters_restrict_results(searcher):
    results = searcher.search("chuyển đổi số", k=10, filters=Filters(year=2023, field="chinh-quyen-so"))
    assert results and all(r.doc in (APPENDIX_2023, "langson-2023-papi-sipas-parindex.txt") for r in results)


@pytest.mark.slow
def test_topic_paraphrase(searcher):
    """No shared keyword with the row: 'đơn vị sự nghiệp ... công ty cổ phần' is 'cổ phần hóa'."""
    results = searcher.search("chuyển đơn vị sự nghiệp thành công ty cổ phần", k=5)
    assert any(r.doc == APPENDIX_2023 and (r.section, r.no) == ("VI", "4") for r in results)


@pytest.mark.slow
def test_every_result_points_at_its_source_lines(searcher, corpus_dir):
    for r in searcher.search("công khai thủ tục hành chính", k=10):
        lines = (corpus_dir / r.doc).read_text("utf-8").splitlines()
        assert 1 <= r.line <= r.end_line <= len(lines)


@pytest.mark.slow
def test_e5_prompts_applied_once_matter(searcher, e5_encoder):
    """The same model ranks far worse with the query prefix doubled: pin the prompt handling."""
    vectors = searcher.vectors
    keys = vectors.keys
    cases = {  # query -> a relevant unit, read off the corpus
        "chuyển đơn vị sự nghiệp thành công ty cổ phần": f"{APPENDIX_2023}:VI.4",
        "thi tuyển công chức bằng máy tính": f"{APPENDIX_2026}:V.4",
        "số hóa hồ sơ, kết quả giải quyết thủ tục hành chính": f"{APPENDIX_2023}:III.7",
    }

    def mrr(prefix: str) -> float:
        total = 0.0
        for query, key in cases.items():
            # the encoder's pipeline on exactly these tokens (no prefix of its own): ids, layers, pooling
            q = e5_encoder._forward([e5_encoder.query_tokenizer.encode(prefix + query)])
            _, ids = vectors.index.search(np.asarray(q, dtype=np.float32), len(keys))
            rank = [keys[i] for i in ids[0]].index(key) + 1
            total += 1.0 / rank
        return total / len(cases)

    right, doubled = mrr("query: "), mrr("query: query: ")
    assert right > doubled
    assert right >= 0.3


# ---------------------------------------------------------------- lean readers (issue 18)

def test_bm25_reader_gives_bm25s_scores_bit_for_bit(tmp_path, extractions):
    """The memory-mapped reader adds bm25s's precomputed columns in bm25s's order: the very same floats."""
    import bm25s
    from cchc.search.bm25 import BM25Index
    from cchc.search.text import tokens
    from cchc.search.units import build_units

    units = build_units(extractions.values())
    index = BM25Index.build([u.key for u in units], [u.index_text for u in units])
    index.save(tmp_path / "bm25")
    loaded = BM25Index.load(tmp_path / "bm25")
    assert isinstance(loaded._data, np.memmap)
    reference = bm25s.BM25.load(str(tmp_path / "bm25"))
    for query in ("nghị định 118 một cửa", "chuyen doi so", "Sở Nội vụ Sở Nội vụ chủ trì", "zzz", "thủ tục"):
        terms = [t for t in tokens(query) if t in reference.vocab_dict]
        expected = reference.get_scores(terms) if terms else np.zeros(len(units), np.float32)
        assert np.array_equal(loaded.scores(query), np.asarray(expected, np.float32)), query


def test_bm25_by_distinct_text_gives_every_units_own_scores(tmp_path, extractions):
    """Scored per distinct text and read through each unit's text: the per-unit floats, coverage too."""
    from cchc.search.bm25 import BM25Index
    from cchc.search.relevance import content_terms, coverage, coverage_by_text
    from cchc.search.units import build_units

    units = build_units(extractions.values())
    BM25Index.build([u.key for u in units], [u.index_text for u in units]).save(tmp_path / "bm25")
    index = BM25Index.load(tmp_path / "bm25")
    assert isinstance(index.rows, np.memmap) and index.by_text
    distinct = len({u.index_text for u in units})
    assert len(index.units_per_text) == distinct < len(units) and index.units_per_text.sum() == len(units)
    every = np.arange(len(units))
    for query in ("nghị định 118 một cửa", "chuyen doi so", "Sở Nội vụ Sở Nội vụ chủ trì", "zzz", "thủ tục"):
        by_text = index.scores_by_text(query)
        assert len(by_text.values) == distinct and np.array_equal(by_text[every], index.scores(query)), query
        terms = content_terms(query, frozenset())
        plain, rows = coverage(index, terms), coverage_by_text(index, terms)
        assert (plain is None) == (rows is None) and (plain is None or np.array_equal(rows[every], plain)), query
    # the units of texts, text by text: the best text's copies first
    best = index.scores_by_text("cổng dịch vụ công quốc gia")
    top = np.argsort(-best.values, kind="stable")[:3]
    got = index.units_of_texts(top)
    assert len(got) == index.units_per_text[top].sum()
    assert [int(index.rows[u]) for u in got] == sorted((int(index.rows[u]) for u in got), key=list(top).index)


def bm25s_reference(texts):
    """The BM25 index as bm25s builds it (what BM25Index.build called until the national-scale build ran out of
    memory): every unit a document, a repeated text's tokens shared, "∅" for a unit without tokens."""
    import logging

    import bm25s
    from cchc.search.text import tokens

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    r = bm25s.BM25(k1=1.2, b=0.75)
    seen: dict[str, list[str]] = {}
    r.index([seen[t] if t in seen else seen.setdefault(t, tokens(t) or ["∅"]) for t in texts], show_progress=False)
    return r


def assert_same_index(ours, reference) -> None:
    """Same vocabulary (in the same order) and the same arrays, dtypes and floats included."""
    assert list(ours.vocab.items()) == list(reference.vocab_dict.items())
    for name in ("data", "indices", "indptr"):
        mine, theirs = getattr(ours, f"_{name}"), np.asarray(reference.scores[name])
        assert mine.dtype == theirs.dtype and np.array_equal(mine, theirs), name


def test_hand_built_bm25_equals_bm25s_on_the_corpus(tmp_path, extractions):
    """The numpy build gives bm25s's matrix on the corpus's units and titles, and writes bm25s's files byte for
    byte (so indexes written before still open, and bm25s still opens ours)."""
    from cchc.graph.corpus import load_manifest
    from cchc.search.bm25 import BM25Index
    from cchc.search.index import doc_titles
    from cchc.search.units import build_units

    from .conftest import CORPUS

    infos = load_manifest(CORPUS)
    units = build_units(list(extractions.values()), infos)
    titles = doc_titles(list(extractions.values()), infos)
    assert len({u.index_text for u in units}) < len(units)  # repeated texts are there, and counted per unit
    for keys, texts in (([u.key for u in units], [u.index_text for u in units]),
                        (sorted(titles), [titles[d] for d in sorted(titles)]),
                        (["a", "b", "c", "d"], ["", "Sở Nội vụ", "", "sở nội vụ Sở Nội vụ"])):
        ours, reference = BM25Index.build(keys, texts), bm25s_reference(texts)
        assert_same_index(ours, reference)
        ours.save(tmp_path / "ours")
        reference.save(str(tmp_path / "bm25s"), show_progress=False)
        for f in sorted((tmp_path / "bm25s").iterdir()):
            assert (tmp_path / "ours" / f.name).read_bytes() == f.read_bytes(), f.name


def test_word_segmenter_is_underthesea_without_its_init(extractions):
    """Loaded around underthesea's __init__ (which imports torch) and without joblib: underthesea's own words."""
    import sys
    from pathlib import Path

    from cchc.search.text import _CrfTagger, _word_tokenize

    segment = _word_tokenize()
    module = sys.modules[segment.__module__]
    ours = module.word_tokenize_model
    assert isinstance(ours, _CrfTagger)
    from underthesea.models.fast_crf_sequence_tagger import FastCRFSequenceTagger

    reference = FastCRFSequenceTagger()  # the tagger as underthesea loads it (joblib)
    reference.load(str(Path(module.__file__).parent / "models" / "ws_crf_vlsp2013_20230727"))
    texts = [u.text for ex in extractions.values() for u in ex.units][:300]
    mine = [segment(t) for t in texts]
    try:
        module.word_tokenize_model = reference
        theirs = [segment(t) for t in texts]
    finally:
        module.word_tokenize_model = ours
    assert mine == theirs
