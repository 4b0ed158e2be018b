"""Turns per second of heard's lexical pipeline vs VADER's polarity_scores, same texts, one run.

    python benchmarks/throughput.py [--data ../shared/data/twcs/twcs_sample.csv] [--repeat 5]

Both run in this one process on one core, over exactly the same turn texts (the TWCS
sample's tweets, threaded into conversations by heard's importer). Reported:

- ``detectors``: all lexical detectors (`Pipeline.run`), what the issue's target is about;
- ``analyze``: the full analysis (detectors + risk + commitments + six scorecards);
- ``vader``: `SentimentIntensityAnalyzer().polarity_scores` on each turn text.

The ratio is heard's turns/s divided by VADER's (>= 1.0 means heard is at least as fast).
Each figure is the best of --repeat runs, after one warm-up pass; the runs of the three
are interleaved, so that a shared machine's changing load does not favour one of them.
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


def best_rates(fns: dict[str, object], n_items: int, repeat: int) -> dict[str, float]:
    """Best-of-`repeat` rate of each function, after one warm-up pass of each.

    The rounds are interleaved (each round times every function once), so that a change in
    the machine's load (other jobs on a shared machine) affects all figures alike instead
    of whichever happened to be measured at the time.
    """
    for fn in fns.values():
        assert callable(fn)
        fn()  # warm-up (compiles lexicons, fills caches the way a long-running process would)
    best = dict.fromkeys(fns, float("inf"))
    for _ in range(repeat):
        for name, fn in fns.items():
            assert callable(fn)
            t0 = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t0)
    return {name: n_items / t for name, t in best.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA, help="TWCS-style CSV")
    parser.add_argument("--repeat", type=int, default=5)
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

    rates = best_rates(
        {"detectors": run_detectors, "analyze": run_analyze, "vader": run_vader}, n, args.repeat
    )
    det, full, vad = rates["detectors"], rates["analyze"], rates["vader"]
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
