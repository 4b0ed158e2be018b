"""Texts per second of the emotion model: full vs fast tier vs raw MiniLM encoding.

    python benchmarks/emotions_speed.py [--data ../shared/data/goemotions/dev.tsv]
                                        [--n 2000] [--repeat 2] [--batch-size 64]

Same texts for every contender (the first --n texts of a GoEmotions TSV), one process,
torch limited to the cores this process may use. Reported:

- ``raw encode``: ``SentenceTransformer.encode`` of the bundled all-MiniLM-L6-v2, no cache
  (the floor for anything that embeds text with it);
- ``full``: ``EmotionModel.predict_proba`` (TF-IDF + LoRA-adapted MiniLM), cache cleared
  before each run so nothing is free;
- ``full, cached``: the same texts again with the encoder's cache warm (re-reading turns);
- ``fast``: ``EmotionModel.load(fast=True)`` (TF-IDF only, no torch).

Ratios are against ``raw encode``. Each figure is the best of --repeat runs after a warm-up.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "goemotions" / "dev.tsv"


def best_rate(fn: Callable[[], object], n_items: int, repeat: int, warm: bool = True) -> float:
    if warm:
        fn()
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n_items / best


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="GoEmotions TSV")
    parser.add_argument("--n", type=int, default=2000, help="number of texts")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"data file not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    from heard.semantic.emotions import EmotionModel
    from heard.semantic.encoder import Encoder

    with args.data.open(encoding="utf-8") as handle:
        texts = [line.split("\t", 1)[0] for line in handle][: args.n]
    n, bs = len(texts), args.batch_size

    fast = EmotionModel.load(fast=True)
    rates: dict[str, float] = {"fast": best_rate(lambda: fast.predict_proba(texts), n, args.repeat)}

    raw = Encoder.load(cache_size=0).model
    rates["raw encode"] = best_rate(
        lambda: raw.encode(texts, batch_size=bs, normalize_embeddings=True), n, args.repeat
    )

    full = EmotionModel.load()
    encoder = full.encoder
    assert encoder is not None
    encoder.cache_size = max(encoder.cache_size, n)

    def full_uncached() -> object:
        encoder.clear_cache()
        return full.predict_proba(texts, batch_size=bs)

    rates["full"] = best_rate(full_uncached, n, args.repeat)
    full.predict_proba(texts, batch_size=bs)
    rates["full, cached"] = best_rate(
        lambda: full.predict_proba(texts, batch_size=bs), n, args.repeat, warm=False
    )

    import torch

    print(f"{n} texts from {args.data.name}, batch {bs}, torch threads {torch.get_num_threads()}")
    base = rates["raw encode"]
    for name in ("raw encode", "full", "full, cached", "fast"):
        print(f"{name:14s} {rates[name]:10.1f} texts/s   x{rates[name] / base:6.2f} vs raw encode")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
