"""Turns per second of heard's lexical pipeline vs VADER's polarity_scores, same texts, one run.

    python benchmarks/throughput.py [--data ../shared/data/twcs/twcs_sample.csv] [--repeat 3]

Both run in this one process on one core, over exactly the same turn texts (the TWCS
sample's tweets, threaded into conversations by heard's importer). Reported:

- ``detectors``: all lexical detectors (`Pipeline.run`), what the issue's target is about;
- ``analyze``: the full analysis (detectors + risk + commitments + six scorecards);
- ``vader``: `SentimentIntensityAnalyzer().polarity_scores` on each turn text.

The ratio is heard's turns/s divided by VADER's (>= 1.0 means heard is at least as fast).
Each figure is the best of --repeat runs, after one warm-up pass.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_DATA = HERE.parent.parent / "shared" / "data" / "twcs" / "twcs_sample.csv"


def best_rate(fn: object, n_items: int, repeat: int) -> float:
    assert callable(fn)
    fn()  # warm-up (compiles lexicons, fills caches the way a long-running process would)
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return n_items / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TWCS-style CSV")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.data.exists():
        print(f"data file not found: {args.data} (pass --data)", file=sys.stderr)
        return 2
    with contextlib.suppress(AttributeError, OSError):  # one core, as the target says
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})

    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    import heard
    from heard.detectors.lexicon import builtin_lexicon

    conversations = list(heard.load(args.data))
    texts = [t.text for c in conversations for t in c.turns]
    n = len(texts)
    pipe = heard.Pipeline(fast=True)
    vader = SentimentIntensityAnalyzer()

    def run_detectors() -> None:
        for c in conversations:
            pipe.run(c)

    def run_analyze() -> None:
        for c in conversations:
            pipe.analyze(c)

    def run_vader() -> None:
        for t in texts:
            vader.polarity_scores(t)

    det = best_rate(run_detectors, n, args.repeat)
    full = best_rate(run_analyze, n, args.repeat)
    vad = best_rate(run_vader, n, args.repeat)
    print(f"data: {args.data.name}: {len(conversations)} conversations, {n} turns")
    print(
        f"engine: {builtin_lexicon().engine}, {len(builtin_lexicon().patterns)} patterns, "
        f"{len(pipe.detectors)} detectors"
    )
    print(f"{'heard detectors':<22}{det:>10.0f} turns/s   ratio vs VADER {det / vad:5.2f}x")
    print(f"{'heard full analyze':<22}{full:>10.0f} turns/s   ratio vs VADER {full / vad:5.2f}x")
    print(f"{'VADER polarity_scores':<22}{vad:>10.0f} turns/s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
