"""Latency of the live coach: `POST /coach` over loopback, and `coach()` in process.

    python benchmarks/coach_latency.py [--requests 1000] [--tier lexical|semantic|both]

Requests are built from the bundled examples: every conversation cut after each customer
turn (no draft), and every draft of ``coach_drafts.jsonl`` after its ``upto_turn`` turns,
cycled to the requested count. The API runs in this process (uvicorn on 127.0.0.1 in a
thread, `heard.api.create_app` over a throw-away SQLite database); the client is one
keep-alive ``httpx.Client``. Two request mixes are timed:

- ``repeat``: the same conversation is coached again and again, as it is while an agent
  types (the coach's analysis cache is warm after the first pass);
- ``unique``: every request carries a new conversation id, so each one is analysed from
  scratch (the worst case).

Targets: p99 <= 25 ms on the lexical tier, <= 60 ms on the semantic tier. In-process
calls also report this thread's CPU time, the part of the latency that does not depend
on how busy the machine is.
Benchmarks are measurements, not tests: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import heard
from heard.cli.commands_core import example_path
from heard.model import Conversation

TARGET_P99_MS = {"lexical": 25.0, "semantic": 60.0}
WARMUP = 30


def _requests() -> list[dict[str, Any]]:
    """Coach request bodies from the bundled examples and coach drafts."""
    convs = {c.id: c for c in heard.load(example_path(), format="jsonl")}
    out: list[dict[str, Any]] = []
    drafts = Path(example_path()).with_name("coach_drafts.jsonl")
    for line in drafts.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        c = convs[d["context_id"]]
        out.append(_body(c, d["upto_turn"], d["draft"]))
    for c in convs.values():
        for i, t in enumerate(c.turns):
            if t.speaker.value == "customer":
                out.append(_body(c, i + 1, None))
    return out


def _body(c: Conversation, upto: int, draft: str | None) -> dict[str, Any]:
    turns = [
        {
            "speaker": t.speaker.value,
            "text": t.text,
            **({"ts": t.ts.isoformat()} if t.ts else {}),
            **({"agent_id": t.agent_id} if t.agent_id else {}),
        }
        for t in c.turns[:upto]
    ]
    body: dict[str, Any] = {"conversation": {"id": c.id, "channel": c.channel, "turns": turns}}
    if draft:
        body["draft"] = draft
    return body


def _mix(bodies: list[dict[str, Any]], n: int, unique: bool) -> list[dict[str, Any]]:
    out = []
    for k in range(n):
        b = bodies[k % len(bodies)]
        if unique:
            b = {**b, "conversation": {**b["conversation"], "id": f"bench-{k}"}}
        out.append(b)
    return out


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def _server(fast: bool) -> Iterator[tuple[str, dict[str, str], str]]:
    """A running API on loopback: (base URL, auth headers, which app)."""
    import uvicorn

    with tempfile.TemporaryDirectory() as tmp:
        app, headers, which = _app(Path(tmp), fast)
        port = _free_port()
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 30
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the API did not start within 30 s")
            time.sleep(0.02)
        try:
            yield f"http://127.0.0.1:{port}", headers, which
        finally:
            server.should_exit = True
            thread.join(timeout=10)


def _app(tmp: Path, fast: bool) -> tuple[Any, dict[str, str], str]:
    try:
        from heard.api import create_app
        from heard.service import Principal, Service
        from heard.settings import Settings
    except ImportError:
        return _fallback_app(fast), {}, "fallback (coach only)"
    settings = Settings(database_url=f"sqlite:///{tmp / 'bench.db'}", data_dir=tmp, fast=fast)
    service = Service.open(settings)
    _, key = service.add_user(Principal.system(), "bench", "admin")
    return create_app(settings, service=service), {"Authorization": f"Bearer {key}"}, "heard.api"


def _fallback_app(fast: bool) -> Any:
    """Only if the service layer is missing: POST /coach straight onto the library."""
    from fastapi import FastAPI

    from heard.coach import Coach
    from heard.pipeline import Pipeline

    coach = Coach(Pipeline(fast=fast, playbooks=[]))
    app = FastAPI()

    @app.post("/coach")
    def post_coach(body: dict[str, Any]) -> dict[str, Any]:
        conv = Conversation.model_validate(body["conversation"])
        r = coach.coach(conv, draft=body.get("draft"), authority=body.get("authority", "agent"))
        out: dict[str, Any] = r.model_dump(mode="json")
        return out

    return app


def _percentiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(ms), "mean": statistics.mean(ms)}


def _time(
    call: Callable[[dict[str, Any]], None],
    bodies: list[dict[str, Any]],
    cpu: list[float] | None = None,
) -> list[float]:
    """Wall-clock milliseconds per call (and, into `cpu`, this thread's CPU milliseconds:
    on a busy machine that is the part of the latency the code itself costs)."""
    for b in bodies[:WARMUP]:
        call(b)
    out = []
    for b in bodies:
        c = time.thread_time()
        t = time.perf_counter()
        call(b)
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c) * 1000)
    return out


def _row(label: str, stats: dict[str, float], target: float | None) -> str:
    verdict = ""
    if target is not None:
        verdict = "  ok" if stats["p99"] <= target else f"  ABOVE TARGET ({target:g} ms)"
    return (
        f"  {label:<30} p50 {stats['p50']:6.2f}  p95 {stats['p95']:6.2f}  "
        f"p99 {stats['p99']:6.2f}  max {stats['max']:7.2f} ms{verdict}"
    )


def run_tier(tier: str, n: int) -> None:
    import httpx

    from heard.coach import Coach
    from heard.pipeline import Pipeline

    fast = tier == "lexical"
    pipe = Pipeline(fast=fast, playbooks=[])
    if not fast and "semantic" not in pipe.tiers:
        print(f"{tier}: the semantic tier is not installed (heard[models]); skipped")
        return
    bodies = _requests()
    target = TARGET_P99_MS[tier]
    print(f"{tier} tier ({', '.join(pipe.tiers)}), {n} requests per mix, p99 target {target:g} ms")
    with (
        _server(fast) as (base, headers, which),
        httpx.Client(base_url=base, headers=headers, timeout=30) as client,
    ):

        def post(body: dict[str, Any]) -> None:
            r = client.post("/coach", json=body)
            if r.status_code != 200:
                raise RuntimeError(f"POST /coach answered {r.status_code}: {r.text[:300]}")

        print(f"  API: {which} on {base}, keep-alive httpx client")

        def health(_: dict[str, Any]) -> None:
            client.get("/health")

        # the stack's floor: a request that does no coaching (a database ping)
        print(_row("GET /health (HTTP floor)", _percentiles(_time(health, bodies[:200])), None))
        for mix in ("repeat", "unique"):
            stats = _percentiles(_time(post, _mix(bodies, n, mix == "unique")))
            print(_row(f"POST /coach ({mix})", stats, target))
    coach = Coach(pipe)

    def direct(body: dict[str, Any]) -> None:
        conv = Conversation.model_validate(body["conversation"])
        coach.coach(conv, draft=body.get("draft"))

    for mix in ("repeat", "unique"):
        cpu: list[float] = []
        stats = _percentiles(_time(direct, _mix(bodies, n, mix == "unique"), cpu))
        print(_row(f"coach() in process ({mix})", stats, None))
        print(_row(f"  of which CPU ({mix})", _percentiles(cpu), None))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--tier", choices=["lexical", "semantic", "both"], default="both")
    args = parser.parse_args(argv)
    tiers = ["lexical", "semantic"] if args.tier == "both" else [args.tier]
    print(f"heard {heard.__version__}, python {sys.version.split()[0]}")
    for tier in tiers:
        run_tier(tier, args.requests)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
