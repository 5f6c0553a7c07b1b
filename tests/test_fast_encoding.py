"""Fast passage encoding (issue 18, build <= 60 s): batch planning, order, duplicates, workers, the vector cache.

All on the embedded corpus and the real default model: the speed-ups must not
change a vector (same rows as one text at a time, to float rounding) nor its
place in the answer.
"""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from cchc.embeddings.index import VectorIndex
from cchc.embeddings.onnx_encoder import MAX_BATCH_TOKENS, OnnxEncoder, plan_batches
from cchc.embeddings.passage_cache import CachedPassages

from .conftest import CORPUS


def _lines(n: int, seed: int = 18) -> list[str]:
    """`n` corpus lines of mixed lengths (titles, table rows, long narrative paragraphs), in a shuffled order."""
    lines = sorted({line.strip() for p in sorted(CORPUS.glob("*.txt"))
                    for line in p.read_text("utf-8").splitlines() if len(line.split()) >= 2})
    rng = random.Random(seed)
    picked = rng.sample(lines, n)
    picked.sort(key=len)  # a spread: the shortest, the longest and between
    spread = picked[:n // 3] + picked[-n // 3:] + picked[n // 3:-n // 3]
    rng.shuffle(spread)
    return spread


@pytest.fixture(scope="module")
def encoder(e5_encoder) -> OnnxEncoder:
    assert isinstance(e5_encoder, OnnxEncoder)
    return e5_encoder


def test_plan_batches_covers_every_text_once_longest_first_within_caps(encoder: OnnxEncoder, extractions) -> None:
    """On the corpus's search units: each once, longest first, within the caps, and little padding."""
    from cchc.graph.corpus import load_manifest
    from cchc.search.units import build_units

    texts = [u.index_text for u in build_units(list(extractions.values()), load_manifest(CORPUS))]
    lengths = [len(x) for x in encoder.token_ids(texts, "passage")]
    batches = plan_batches(lengths, max_rows=32)
    flat = [i for b in batches for i in b]
    assert sorted(flat) == list(range(len(texts)))  # each text in exactly one batch
    assert [lengths[i] for i in flat] == sorted(lengths, reverse=True)  # longest first, across the whole call
    for b in batches:
        assert len(b) <= 32
        assert len(b) == 1 or len(b) * lengths[b[0]] <= MAX_BATCH_TOKENS
    padded = sum(len(b) * lengths[b[0]] for b in batches)
    sliced = sum(len(b) * max(lengths[i] for i in b)  # before: slices of 64, sorted within, batches of 32
                 for s in range(0, len(texts), 64)
                 for order in [sorted(range(s, min(s + 64, len(texts))), key=lambda i: -lengths[i])]
                 for b in (order[:32], order[32:]) if b)
    assert padded <= 1.05 * sum(lengths) < 0.7 * sliced, (padded, sum(lengths), sliced)


def test_one_call_gives_each_text_its_own_vector_in_input_order(encoder: OnnxEncoder) -> None:
    """Length sorting, batching, duplicates and two workers change nothing: row i is text i's vector."""
    texts = _lines(48)
    texts = [*texts, texts[3], texts[40], texts[3]]  # duplicates, encoded once, answered at each place
    done: list[int] = []
    together = encoder.encode_passages(texts, progress=done.append)
    assert sum(done) == len(texts)
    assert encoder.workers >= 1
    alone = np.vstack([encoder.encode_passages([t]) for t in texts])  # one text per batch: no padding, no sort
    np.testing.assert_allclose(together, alone, atol=2e-5)
    assert np.sum(together * alone, axis=1).min() >= 0.9999
    np.testing.assert_array_equal(together[3], together[-1])
    np.testing.assert_array_equal(together[40], together[-2])


def test_workers_and_one_thread_agree(encoder: OnnxEncoder) -> None:
    """The batches run on single-threaded sessions side by side; the serving setting (one thread) agrees."""
    texts = _lines(40, seed=7)
    one = OnnxEncoder(encoder.folder, model_id=encoder.model_id, threads=1)
    two = OnnxEncoder(encoder.folder, model_id=encoder.model_id, threads=2)
    assert (one.workers, two.workers) == (1, 2)
    np.testing.assert_allclose(two.encode_passages(texts), one.encode_passages(texts), atol=2e-5)
    assert "batch_session" in two.__dict__ and "batch_session" not in one.__dict__  # one thread: no second session


def test_vector_index_encode_hands_the_whole_list_to_a_planning_encoder(encoder: OnnxEncoder) -> None:
    calls: list[int] = []

    class Watch:
        """The real encoder, recording the size of each call."""

        reports_progress = True
        model_id, dimension = encoder.model_id, encoder.dimension

        def encode_passages(self, texts, progress=None):
            calls.append(len(texts))
            return encoder.encode_passages(texts, progress=progress)

    texts = _lines(130, seed=3)
    vectors = VectorIndex.encode(Watch(), texts, progress=True)
    assert calls == [130]  # not slices of 64: the length sort spans the whole list
    np.testing.assert_allclose(vectors, encoder.encode_passages(texts), atol=1e-6)


def test_vector_index_encode_sorts_slices_for_other_encoders_and_restores_order(encoder: OnnxEncoder) -> None:
    """An encoder that does not plan its batches gets length-sorted slices; the rows come back in input order."""
    calls: list[list[str]] = []

    class Plain:
        """The real encoder behind the plain protocol (no `progress`): a sentence-transformers model, say."""

        model_id, dimension = encoder.model_id, encoder.dimension

        def encode_passages(self, texts):
            calls.append(texts)
            return encoder.encode_passages(texts)

    texts = _lines(70, seed=5)
    vectors = VectorIndex.encode(Plain(), texts, batch_size=16)
    assert [len(c) for c in calls] == [16, 16, 16, 16, 6]
    lengths = [len(t) for c in calls for t in c]
    assert lengths == sorted(lengths, reverse=True)
    np.testing.assert_allclose(vectors, encoder.encode_passages(texts), atol=2e-5)


class Refusing:
    """An encoder that must not be asked: every vector has to come from the cache."""

    def __init__(self, model_id: str, dimension: int) -> None:
        self.model_id, self.dimension = model_id, dimension

    def encode_passages(self, texts):
        raise AssertionError(f"encoder called for {len(texts)} texts")

    def encode_queries(self, texts):
        raise AssertionError("no queries here")


def test_vector_cache_hit_gives_identical_vectors_without_the_encoder(encoder: OnnxEncoder, tmp_path: Path) -> None:
    texts = _lines(30, seed=11)
    first = CachedPassages(encoder, tmp_path).encode_passages(texts)
    assert (tmp_path / CachedPassages(encoder, tmp_path).path.name).is_file()
    again = CachedPassages(Refusing(encoder.model_id, encoder.dimension), tmp_path)  # a later build, from disk
    np.testing.assert_array_equal(again.encode_passages(list(reversed(texts))), first[::-1])
    done: list[int] = []
    assert again.reports_progress is False
    np.testing.assert_array_equal(again.encode_passages(texts[:5], progress=done.append), first[:5])
    assert sum(done) == 5
    other = CachedPassages(Refusing("another-model", encoder.dimension), tmp_path)  # keyed by model: no hit
    with pytest.raises(AssertionError, match="encoder called for 1 texts"):
        other.encode_passages(texts[:1])
    changed = CachedPassages(encoder, tmp_path)
    done.clear()
    mixed = changed.encode_passages([texts[0], texts[1] + " (sửa đổi)"], progress=done.append)
    assert sum(done) == 2
    np.testing.assert_array_equal(mixed[0], first[0])
    assert float(mixed[1] @ first[1]) < 0.9999  # a changed text is encoded, never served a stale vector
