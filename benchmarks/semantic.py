"""Turns per second of heard's pipeline with the semantic tier vs raw MiniLM encoding.

    python benchmarks/semantic.py [--data ../shared/data/twcs/twcs_sample.csv] [--limit 2000]

Both run in this one process on at most 2 cores (torch threads = 2), over exactly the same
turn texts (the TWCS sample's tweets, threaded into conversations by heard's importer),
one timed run each:

- ``raw``: ``SentenceTransformer.encode`` of every turn text in one call (its defaults:
  batch 32, texts sorted by length), the cost of embedding the texts at all; timed with
  2 and with 1 torch thread, and the faster is the baseline;
- ``semantic``: ``Pipeline().run`` conversation by conversation: every lexical detector,
  then the semantic tier (one batch per conversation: agent sentences for the technique
  heads, customer turns for the emotion model) and the fusion; and ``Pipeline.run_many``
  on batches of conversations (what ``heard analyze`` and ``analyze_many`` do: one
  encoder batch for the sentences of 128 conversations), with the text caches emptied
  again in between so the second run gets no free repeats;
- ``lexical``: ``Pipeline(fast=True).run`` over the same conversations, for reference.

The ratio is semantic turns/s divided by raw turns/s (the target is >= 0.8). Both models
are loaded and warmed up on conversations outside the measured set first, so neither side
pays for loading; the encoders' text caches hold only the warm-up texts when timing starts
(repeats *inside* the measured set are free for heard, as they are in production).

Also checked: ``Pipeline(fast=True)`` reports only the lexical tier and gives the same
findings before and after the semantic pipeline has run (the semantic tier changes nothing
for ``--fast`` users). Memory: peak resident set size of the process (ru_maxrss).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from heard.detectors.base import Doc

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "twcs" / "twcs_sample.csv"
THREADS = 2


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def findings_of(docs: Sequence[Doc]) -> list[tuple[int, str, tuple[int, int], str]]:
    out = []
    for doc in docs:
        for t in doc.turns:
            for f in t.findings:
                out.append((f.turn, f.id, f.span, f.detector))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TWCS-style CSV")
    parser.add_argument("--limit", type=int, default=0, help="measure about N turns (0: all)")
    parser.add_argument("--warmup", type=int, default=40, help="conversations used to warm up")
    args = parser.parse_args()
    if not args.data.exists():
        print(f"data file not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    with contextlib.suppress(AttributeError, OSError):
        cores = sorted(os.sched_getaffinity(0))[:THREADS]
        os.sched_setaffinity(0, set(cores))
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # as heard's Encoder.load sets it

    import torch

    torch.set_num_threads(THREADS)

    import heard
    from heard.pipeline import BATCH_SIZE
    from heard.semantic import encoder as encoder_module
    from heard.semantic.detectors import shared_emotion_model, shared_encoder

    if not encoder_module.available():
        print("the semantic tier is not installed: pip install 'heard[models]'", file=sys.stderr)
        return 2

    conversations = list(heard.load(args.data))
    warm, measured = conversations[: args.warmup], conversations[args.warmup :]
    if args.limit:
        kept, n = [], 0
        for c in measured:
            if n >= args.limit:
                break
            kept.append(c)
            n += len(c.turns)
        measured = kept
    texts = [t.text for c in measured for t in c.turns]
    n = len(texts)
    print(f"data: {args.data.name}: {len(measured)} conversations, {n} turns measured")
    print(f"      ({len(set(texts))} distinct texts), {args.warmup} conversations of warm-up")
    base_rss = rss_mb()

    fast = heard.Pipeline(fast=True, playbooks=[])
    full = heard.Pipeline(playbooks=[])
    print(f"tiers: fast={fast.tiers} full={full.tiers}")
    if full.tiers != ["lexical", "semantic"]:
        print("the semantic tier did not load (weights missing?)", file=sys.stderr)
        return 2
    semantic_names = [d.name for d in full.detectors if d.name.startswith("semantic.")]
    print(f"semantic detectors: {', '.join(semantic_names)}")

    fast_before = findings_of([fast.run(c) for c in measured])

    encoder = shared_encoder()
    for c in warm:  # loads both models and warms every code path
        full.run(c)
    model = encoder.model
    model.encode([t.text for c in warm for t in c.turns], show_progress_bar=False)

    def clear_caches() -> None:
        encoder.clear_cache()
        if "semantic.emotion" in semantic_names:
            # the emotion model's own (LoRA-adapted) encoder has a text cache too
            emotion_encoder = shared_emotion_model().encoder
            if emotion_encoder is not None:
                emotion_encoder.clear_cache()

    clear_caches()
    loaded_rss = rss_mb()

    raws = {}
    for threads in (THREADS, 1):  # the faster of the two is the baseline
        torch.set_num_threads(threads)
        t0 = time.perf_counter()
        model.encode(texts, show_progress_bar=False)
        raws[threads] = n / (time.perf_counter() - t0)
    torch.set_num_threads(THREADS)
    raw = max(raws.values())
    engine_rate = None
    if encoder.backend != "torch":  # the same texts through heard's own engine, uncached
        t0 = time.perf_counter()
        encoder.engine.encode(texts, show_progress_bar=False)
        engine_rate = n / (time.perf_counter() - t0)

    t0 = time.perf_counter()
    docs = [full.run(c) for c in measured]
    semantic = n / (time.perf_counter() - t0)

    clear_caches()
    t0 = time.perf_counter()
    batched_docs = [
        doc
        for i in range(0, len(measured), BATCH_SIZE)
        for doc in full.run_many(measured[i : i + BATCH_SIZE])
    ]
    batched = n / (time.perf_counter() - t0)
    same_ids = [(f[0], f[1]) for f in findings_of(docs)] == [
        (f[0], f[1]) for f in findings_of(batched_docs)
    ]

    t0 = time.perf_counter()
    fast_after_docs = [fast.run(c) for c in measured]
    lexical = n / (time.perf_counter() - t0)
    fast_after = findings_of(fast_after_docs)

    semantic_findings = [f for f in findings_of(docs) if f[3].startswith("semantic.")]
    for threads, rate in raws.items():
        print(f"raw SentenceTransformer.encode   {rate:8.1f} turns/s ({threads} torch threads)")
    if engine_rate is not None:
        label = f"raw {encoder.backend} engine (heard's)"
        print(f"{label:<33}{engine_rate:8.1f} turns/s ({THREADS} threads)")
    print(f"encoder backend: {encoder.backend} (HEARD_ENCODER_BACKEND=torch|onnx|auto)")
    print(f"pipeline with semantic tier      {semantic:8.1f} turns/s (one conversation a call)")
    print(f"  batched, {BATCH_SIZE} conversations a call {batched:8.1f} turns/s (heard analyze)")
    print(f"lexical pipeline (--fast)        {lexical:8.1f} turns/s")
    print(f"ratio semantic / raw             {semantic / raw:8.2f}  one by one")
    print(f"ratio semantic / raw             {batched / raw:8.2f}  batched (target >= 0.80)")
    print(f"batched findings: same ids on the same turns as one by one: {same_ids}")
    print(
        f"findings: {len(findings_of(docs))} with the semantic tier "
        f"({len(semantic_findings)} signed semantic.*), {len(fast_after)} lexical only"
    )
    unchanged = fast_before == fast_after and fast.tiers == ["lexical"]
    print(f"lexical-only pipeline unchanged by the semantic run: {unchanged}")
    print(
        f"memory: peak RSS {rss_mb():.0f} MB (before models {base_rss:.0f} MB, "
        f"after loading and warm-up {loaded_rss:.0f} MB)"
    )
    return 0 if unchanged else 1


if __name__ == "__main__":
    raise SystemExit(main())
