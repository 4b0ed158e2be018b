"""The optional LLM backend, against a fake OpenAI-compatible endpoint on 127.0.0.1.

The fake server (http.server in a thread) answers chat-completions requests with replies
a test chooses, good and bad; bad ones must be dropped by the detectors or the authority
check, and a dead, slow or broken endpoint must fall back to the template replies.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from heard.coach import Coach, LLMConfig, LLMError, OpenAICompatibleBackend, coach
from heard.coach.llm import endpoint, parse_replies, resolve_backend
from heard.model import Conversation, Speaker, Turn
from heard.pipeline import Pipeline

GOOD = [
    "That sounds really frustrating, and I'm sorry your sofa arrived broken. What matters "
    "most to you about the replacement right now?",
    "A broken sofa after waiting for it is awful. I can ask my supervisor about a refund "
    "and message you by 4 pm today with their answer.",
]
BAD = [
    "You should have checked the box before signing for it.",  # X.blame
    "Please calm down, it's only a sofa.",  # X.dismiss
    "I'll refund you in full right now, no questions asked.",  # above an agent's authority
]


@dataclass
class Fake:
    """What the fake endpoint answers, and what it was asked."""

    content: str = ""
    status: int = 200
    delay: float = 0.0
    raw: bytes | None = None
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)


def _handler(fake: Fake) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            fake.requests.append(json.loads(self.rfile.read(length) or b"{}"))
            fake.headers.append(dict(self.headers))
            if fake.delay:
                time.sleep(fake.delay)
            if fake.raw is not None:
                body = fake.raw
            else:
                body = json.dumps(
                    {
                        "id": "fake-1",
                        "object": "chat.completion",
                        "choices": [
                            {
                                "index": 0,
                                "message": {"role": "assistant", "content": fake.content},
                                "finish_reason": "stop",
                            }
                        ],
                    }
                ).encode()
            try:
                self.send_response(fake.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
                pass

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def fake() -> Iterator[tuple[Fake, str]]:
    state = Fake()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state, f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def the_coach() -> Coach:
    return Coach(Pipeline(fast=True, playbooks=[]))


@pytest.fixture(autouse=True)
def no_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HEARD_LLM_URL", "HEARD_LLM_MODEL", "HEARD_LLM_API_KEY", "HEARD_LLM_TIMEOUT"):
        monkeypatch.delenv(name, raising=False)


def sofa() -> Conversation:
    return Conversation(
        id="sofa",
        turns=[
            Turn(
                speaker=Speaker.customer,
                text="My new sofa arrived with a split seam. I want my money back!!",
            )
        ],
    )


def replies(*texts: str) -> str:
    return json.dumps({"replies": list(texts)})


def backend(url: str, timeout: float = 2.0, key: str | None = None) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend(url, model="fake-model", api_key=key, timeout=timeout)


def test_good_replies_are_shown_and_bad_ones_dropped(
    fake: tuple[Fake, str], the_coach: Coach
) -> None:
    state, url = fake
    state.content = replies(*GOOD, *BAD)
    r = the_coach.coach(sofa(), llm=backend(url), authority="agent")
    assert [s.text for s in r.suggestions] == GOOD
    assert all(s.source == "llm" for s in r.suggestions)
    assert all(s.detected == s.techniques for s in r.suggestions)
    assert "T.label" in r.suggestions[0].detected or "T.acknowledge" in r.suggestions[0].detected
    dropped = {x.text: x.reasons for x in r.rejected if x.source == "llm"}
    assert set(dropped) == set(BAD)
    assert any(reason.startswith("X.blame") for reason in dropped[BAD[0]])
    assert any(reason.startswith("X.dismiss") for reason in dropped[BAD[1]])
    assert any("needs a supervisor" in reason for reason in dropped[BAD[2]])
    assert any("dropped" in n for n in r.notes)


def test_what_is_sent(fake: tuple[Fake, str], the_coach: Coach) -> None:
    state, url = fake
    state.content = replies(GOOD[0])
    the_coach.coach(sofa(), llm=backend(url, key="sekret"), authority="agent")
    (body,) = state.requests
    assert body["model"] == "fake-model" and body["stream"] is False
    system, user = body["messages"]
    assert system["role"] == "system" and user["role"] == "user"
    assert (
        "Goodwill store credit" in system["content"] or "goodwill store credit" in system["content"]
    )
    assert "NOT offer" in system["content"] and "Refund" in system["content"]
    assert "split seam" in user["content"]
    assert state.headers[0].get("Authorization") == "Bearer sekret"


def test_a_supervisor_may_get_the_refund_reply(fake: tuple[Fake, str], the_coach: Coach) -> None:
    state, url = fake
    state.content = replies(BAD[2])
    r = the_coach.coach(sofa(), llm=backend(url), authority="supervisor")
    assert [s.text for s in r.suggestions] == [BAD[2]]
    assert r.suggestions[0].remedies == ["refund"]


def test_only_bad_replies_fall_back_to_templates(fake: tuple[Fake, str], the_coach: Coach) -> None:
    state, url = fake
    state.content = replies(*BAD)
    r = the_coach.coach(sofa(), llm=backend(url), authority="agent")
    assert r.suggestions and all(s.source == "template" for s in r.suggestions)
    assert {x.text for x in r.rejected if x.source == "llm"} == set(BAD)
    assert any("no LLM reply passed" in n for n in r.notes)


def test_a_dead_endpoint_falls_back_to_templates(the_coach: Coach) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.perf_counter()
    r = the_coach.coach(sofa(), llm=backend(f"http://127.0.0.1:{port}/v1"))
    assert time.perf_counter() - started < 2.0
    assert r.suggestions and all(s.source == "template" for s in r.suggestions)
    assert any(n.startswith("LLM not used") and "cannot reach" in n for n in r.notes)


def test_a_slow_endpoint_times_out(fake: tuple[Fake, str], the_coach: Coach) -> None:
    state, url = fake
    state.content = replies(GOOD[0])
    state.delay = 1.5
    started = time.perf_counter()
    r = the_coach.coach(sofa(), llm=backend(url, timeout=0.2))
    assert time.perf_counter() - started < 1.2
    assert all(s.source == "template" for s in r.suggestions)
    assert any("within 0.2 s" in n for n in r.notes)


@pytest.mark.parametrize(
    ("status", "raw", "content", "why"),
    [
        (500, None, "", "HTTP 500"),
        (200, b"not json at all", "", "chat-completions format"),
        (200, None, "", "no replies"),
    ],
)
def test_broken_answers_fall_back(
    fake: tuple[Fake, str],
    the_coach: Coach,
    status: int,
    raw: bytes | None,
    content: str,
    why: str,
) -> None:
    state, url = fake
    state.status, state.raw, state.content = status, raw, content
    r = the_coach.coach(sofa(), llm=backend(url))
    assert r.suggestions and all(s.source == "template" for s in r.suggestions)
    assert any(why in n for n in r.notes), r.notes


def test_the_environment_configures_the_backend(
    fake: tuple[Fake, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    state, url = fake
    state.content = replies(GOOD[0])
    assert resolve_backend(None) is None  # off by default: nothing is sent
    r = coach(sofa())
    assert state.requests == [] and all(s.source == "template" for s in r.suggestions)
    monkeypatch.setenv("HEARD_LLM_URL", url)
    monkeypatch.setenv("HEARD_LLM_MODEL", "from-env")
    monkeypatch.setenv("HEARD_LLM_TIMEOUT", "1.5")
    r = coach(sofa())
    assert [s.source for s in r.suggestions] == ["llm"]
    assert state.requests[-1]["model"] == "from-env"
    # the service passes the URL itself
    r = coach(sofa(), llm=url)
    assert [s.source for s in r.suggestions] == ["llm"]


def test_config_from_env() -> None:
    assert LLMConfig.from_env({}) is None
    got = LLMConfig.from_env(
        {"HEARD_LLM_URL": " http://x:1/v1 ", "HEARD_LLM_TIMEOUT": "oops", "HEARD_LLM_API_KEY": ""}
    )
    assert got == LLMConfig(url="http://x:1/v1")


def test_endpoint_urls() -> None:
    assert endpoint("http://h:8080/v1") == "http://h:8080/v1/chat/completions"
    assert endpoint("http://h:8080/v1/") == "http://h:8080/v1/chat/completions"
    assert endpoint("http://h:8080") == "http://h:8080/v1/chat/completions"
    assert endpoint("http://h/api/v1/chat/completions") == "http://h/api/v1/chat/completions"


def test_parse_replies() -> None:
    assert parse_replies('{"replies": ["a", " b ", ""]}') == ["a", "b"]
    assert parse_replies('Sure!\n```json\n["one", "two"]\n```') == ["one", "two"]
    assert parse_replies("1. First reply\n2) Second reply\n- Third") == [
        "First reply",
        "Second reply",
        "Third",
    ]
    assert parse_replies("Just one reply.") == ["Just one reply."]
    assert parse_replies("   ") == []


def test_backend_errors_are_llm_errors() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(LLMError, match="E310"):
        backend(f"http://127.0.0.1:{port}").complete([{"role": "user", "content": "hi"}])
