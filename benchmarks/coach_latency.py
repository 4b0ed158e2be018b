"""Latency of the live coach: `POST /coach` over loopback, and `coach()` in process.

    python benchmarks/coach_latency.py [--requests 1000] [--tier lexical|semantic|both]

Requests are built from the bundled examples: every conversation cut after each customer
turn (no draft), and every draft of ``coach_drafts.jsonl`` after its ``upto_turn`` turns.
The API is served the way ``heard serve`` serves it (`heard.api.create_app` and
`heard.api.prepare_to_serve`, uvicorn on 127.0.0.1, a throw-away SQLite database), in a
process of its own so that the client does not compete with it for the GIL. The client is
one keep-alive `http.client` connection sending pre-encoded bodies (lighter than any HTTP
library, so that it is not what is measured); its own CPU time per request is reported.
Three request mixes are timed, each after warm-up requests that are not counted:

- ``repeat``: conversations the coach has seen, coached again, as while an agent types
  (the analysis is cached: only the draft is checked);
- ``live``: every conversation replayed turn by turn, as a live coach sees it grow (a new
  id per replay, so each replay starts cold and then reuses the analysed prefix);
- ``unique``: every request carries a new conversation id, so each one is analysed from
  scratch (the worst case).

Targets: p99 <= 25 ms on the lexical tier, <= 60 ms on the semantic tier. Besides the
latency percentiles each row reports requests/s and the server's CPU milliseconds per
request (the part of the latency that does not depend on how busy the machine is).
The in-process rows time `Coach.coach` alone, with this thread's CPU time.
Benchmarks are measurements, not tests: nothing here fails a build.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import socket
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import heard
from heard.cli.commands_core import example_path
from heard.model import Conversation

TARGET_P99_MS = {"lexical": 25.0, "semantic": 60.0}
WARMUP = 30


# -- requests ------------------------------------------------------------------------------
def _conversations() -> dict[str, Conversation]:
    return {c.id: c for c in heard.load(example_path(), format="jsonl")}


def _cuts() -> list[tuple[str, int, str | None]]:
    """(conversation id, turns so far, draft) for every request, in conversation order:
    each conversation after each customer turn, and the drafts at their turn."""
    convs = _conversations()
    cuts: list[tuple[str, int, str | None]] = []
    drafts = Path(example_path()).with_name("coach_drafts.jsonl")
    for line in drafts.read_text(encoding="utf-8").splitlines():
        d = json.loads(line)
        cuts.append((d["context_id"], d["upto_turn"], d["draft"]))
    for c in convs.values():
        for i, t in enumerate(c.turns):
            if t.speaker.value == "customer":
                cuts.append((c.id, i + 1, None))
    order = {id: k for k, id in enumerate(convs)}
    return sorted(cuts, key=lambda x: (order[x[0]], x[1], x[2] is not None))


def _requests() -> list[dict[str, Any]]:
    """Coach request bodies from the bundled examples and coach drafts."""
    convs = _conversations()
    return [_body(convs[id], upto, draft) for id, upto, draft in _cuts()]


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


def _renamed(body: dict[str, Any], id: str) -> dict[str, Any]:
    return {**body, "conversation": {**body["conversation"], "id": id}}


def _mix(bodies: list[dict[str, Any]], n: int, mix: str, tag: str = "") -> list[dict[str, Any]]:
    """`n` requests of a mix (`bodies` in conversation order, as `_requests` gives them).

    ``repeat`` cycles through `bodies` as they are; ``live`` replays them with a new id
    per replay (each conversation grows turn by turn); ``unique`` gives every request a
    new id. `tag` keeps the ids of warm-up requests apart from the timed ones.
    """
    out = []
    for k in range(n):
        b = bodies[k % len(bodies)]
        if mix == "unique":
            b = _renamed(b, f"bench{tag}-{k}")
        elif mix == "live":
            b = _renamed(b, f"live{tag}-{k // len(bodies)}-{b['conversation']['id']}")
        out.append(b)
    return out


# -- the server ------------------------------------------------------------------------------
def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _serve(tier: str, port: int, conn: Connection) -> None:
    """The server process: the API on loopback, answering CPU-time queries on `conn`."""
    import uvicorn

    from heard.api import create_app, prepare_to_serve
    from heard.service import Principal, Service
    from heard.settings import Settings

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(
            database_url=f"sqlite:///{Path(tmp) / 'bench.db'}",
            data_dir=Path(tmp),
            fast=tier == "lexical",
        )
        service = Service.open(settings)
        _, key = service.add_user(Principal.system(), "bench", "admin")
        app = create_app(settings, service=service)
        prepare_to_serve(service)
        config = uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
        server = uvicorn.Server(config)

        def answer() -> None:
            while True:
                try:
                    msg = conn.recv()
                except EOFError:
                    msg = "stop"
                if msg == "stop":
                    server.should_exit = True
                    return
                conn.send(time.process_time())

        threading.Thread(target=answer, daemon=True).start()
        threading.Thread(target=_announce, args=(server, conn, key), daemon=True).start()
        server.run()
        service.close()


def _announce(server: Any, conn: Connection, key: str) -> None:
    while not server.started:
        time.sleep(0.02)
    conn.send(("ready", key))


@contextmanager
def _server(tier: str) -> Iterator[tuple[int, str, Connection]]:
    """The API in a child process: (port, API key, a pipe that answers its CPU time)."""
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    port = _free_port()
    proc = ctx.Process(target=_serve, args=(tier, port, child), daemon=True)
    proc.start()
    try:
        if not parent.poll(300):
            raise RuntimeError("the API did not start within 300 s")
        _, key = parent.recv()
        yield port, key, parent
    finally:
        with suppress(OSError):
            parent.send("stop")
        proc.join(timeout=15)
        if proc.is_alive():
            proc.terminate()


class Client:
    """One keep-alive HTTP/1.1 connection; bodies are encoded before they are timed."""

    def __init__(self, port: int, key: str) -> None:
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}

    def post(self, body: bytes) -> None:
        self.conn.request("POST", "/coach", body=body, headers=self.headers)
        r = self.conn.getresponse()
        data = r.read()
        if r.status != 200:
            raise RuntimeError(f"POST /coach answered {r.status}: {data[:300]!r}")

    def health(self, _: bytes) -> None:
        self.conn.request("GET", "/health")
        r = self.conn.getresponse()
        r.read()

    def close(self) -> None:
        self.conn.close()


# -- timing ----------------------------------------------------------------------------------
def _percentiles(ms: list[float]) -> dict[str, float]:
    q = statistics.quantiles(ms, n=100, method="inclusive")
    return {"p50": q[49], "p95": q[94], "p99": q[98], "max": max(ms), "mean": statistics.mean(ms)}


def _time(
    call: Callable[[Any], None], items: list[Any], cpu: list[float] | None = None
) -> tuple[list[float], float]:
    """Wall-clock milliseconds per call, and the seconds the whole run took (and, into
    `cpu`, this thread's CPU milliseconds per call)."""
    out = []
    began = time.perf_counter()
    for b in items:
        c = time.thread_time()
        t = time.perf_counter()
        call(b)
        out.append((time.perf_counter() - t) * 1000)
        if cpu is not None:
            cpu.append((time.thread_time() - c) * 1000)
    return out, time.perf_counter() - began


def _row(label: str, stats: dict[str, float], target: float | None, extra: str = "") -> str:
    verdict = ""
    if target is not None:
        verdict = "  ok" if stats["p99"] <= target else f"  ABOVE TARGET ({target:g} ms)"
    return (
        f"  {label:<28} p50 {stats['p50']:6.2f}  p95 {stats['p95']:6.2f}  "
        f"p99 {stats['p99']:6.2f}  max {stats['max']:7.2f} ms{extra}{verdict}"
    )


def run_tier(tier: str, n: int) -> None:
    from heard.coach import Coach
    from heard.pipeline import Pipeline

    fast = tier == "lexical"
    pipe = Pipeline(fast=fast, playbooks=[])
    if not fast and "semantic" not in pipe.tiers:
        print(f"{tier}: the semantic tier is not installed (heard[models]); skipped")
        return
    bodies = _requests()
    target = TARGET_P99_MS[tier]
    print(
        f"{tier} tier ({', '.join(pipe.tiers)}), {n} requests per mix, "
        f"{len(bodies)} distinct requests, p99 target {target:g} ms"
    )
    with _server(tier) as (port, key, cpu_pipe):
        client = Client(port, key)

        def server_cpu() -> float:
            cpu_pipe.send("cpu")
            value: float = cpu_pipe.recv()
            return value

        print(f"  API: heard.api in a server process on 127.0.0.1:{port}, keep-alive client")
        encoded = [json.dumps(b).encode("utf-8") for b in bodies]
        # the stack's floor: a request that does no coaching (a database ping)
        _time(client.health, encoded[:WARMUP])
        ms, _ = _time(client.health, encoded[:200] * 2)
        print(_row("GET /health (HTTP floor)", _percentiles(ms), None))
        # the repeat mix is all warm: one pass over every request first
        warm = {
            "repeat": bodies,
            "live": _mix(bodies, WARMUP, "live", "w"),
            "unique": _mix(bodies, WARMUP, "unique", "w"),
        }
        for mix in ("repeat", "live", "unique"):
            _time(client.post, [json.dumps(b).encode("utf-8") for b in warm[mix]])
            items = [json.dumps(b).encode("utf-8") for b in _mix(bodies, n, mix)]
            client_cpu: list[float] = []
            before = server_cpu()
            ms, took = _time(client.post, items, client_cpu)
            spent = (server_cpu() - before) * 1000 / n
            extra = (
                f"  {n / took:5.0f} req/s  server CPU {spent:5.2f}"
                f"  client CPU {statistics.mean(client_cpu):4.2f} ms/req"
            )
            print(_row(f"POST /coach ({mix})", _percentiles(ms), target, extra))
        client.close()
    coach = Coach(pipe)

    def direct(body: dict[str, Any]) -> None:
        conv = Conversation.model_validate(body["conversation"])
        coach.coach(conv, draft=body.get("draft"))

    for b in bodies:
        direct(b)
    for mix in ("repeat", "live", "unique"):
        for b in _mix(bodies, WARMUP, mix, "w"):
            direct(b)
        cpu: list[float] = []
        ms, _ = _time(direct, _mix(bodies, n, mix, "p"), cpu)
        print(_row(f"coach() in process ({mix})", _percentiles(ms), None))
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
