"""An optional LLM to phrase suggested replies, behind the same gate as the templates.

Off by default. When configured, the coach sends the conversation so far, its cues and
the company's allowed remedies to an **OpenAI-compatible chat-completions endpoint** (a
local llama.cpp server, vLLM, Ollama's OpenAI API ...) and asks for a few candidate replies.
Every candidate then passes the same check as a template reply (no anti-pattern, no remedy
above the agent's authority); candidates that fail are dropped and listed as rejected.
On any error - no endpoint, a timeout, a bad status, an unreadable answer, nothing left
after the check - the template replies are shown instead and the response says why.

Configuration (environment, read when the coach is called):

- ``HEARD_LLM_URL``: the endpoint, e.g. ``http://127.0.0.1:8080/v1`` (``/chat/completions``
  is added unless the URL already ends with it). Unset: no LLM is used.
- ``HEARD_LLM_MODEL``: the model name to send (default ``local``).
- ``HEARD_LLM_API_KEY``: sent as a bearer token when set.
- ``HEARD_LLM_TIMEOUT``: seconds to wait for the whole answer (default 2.0).

The conversation text goes to that URL, so point it at a server on your own machine or
network: heard itself sends nothing anywhere when it is unset.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Protocol, runtime_checkable

from heard.coach.authority import remedy_phrase
from heard.coach.context import CoachContext
from heard.coach.schemas import Cue
from heard.errors import HeardError
from heard.model import Speaker

DEFAULT_TIMEOUT = 2.0
DEFAULT_MODEL = "local"
MAX_TRANSCRIPT_CHARS = 6000

Message = Mapping[str, str]


class LLMError(HeardError):
    """The LLM endpoint could not be used (the coach falls back to its templates)."""

    code = "E310"


@runtime_checkable
class LLMBackend(Protocol):
    """Anything that turns chat messages into candidate replies."""

    name: str

    def complete(self, messages: Sequence[Message], *, n: int = 3) -> list[str]:
        """Up to `n` candidate replies; raise LLMError on any failure."""


@dataclass(frozen=True, slots=True)
class LLMConfig:
    url: str
    model: str = DEFAULT_MODEL
    api_key: str | None = None
    timeout: float = DEFAULT_TIMEOUT

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
        """The configuration in ``HEARD_LLM_*`` variables, or None when no URL is set."""
        env = os.environ if environ is None else environ
        url = (env.get("HEARD_LLM_URL") or "").strip()
        if not url:
            return None
        try:
            timeout = float(env.get("HEARD_LLM_TIMEOUT") or DEFAULT_TIMEOUT)
        except ValueError:
            timeout = DEFAULT_TIMEOUT
        return cls(
            url=url,
            model=(env.get("HEARD_LLM_MODEL") or DEFAULT_MODEL).strip(),
            api_key=(env.get("HEARD_LLM_API_KEY") or "").strip() or None,
            timeout=max(0.05, timeout),
        )


def endpoint(url: str) -> str:
    """The chat-completions URL for a base URL ("http://host:8080/v1" -> ".../chat/completions")."""
    base = url.rstrip("/")
    if base.endswith("/chat/completions"):
        return base
    if not re.search(r"/v\d+$", base):
        base += "/v1"
    return base + "/chat/completions"


class OpenAICompatibleBackend:
    """Chat completions over HTTP with httpx: one keep-alive client, a short timeout."""

    def __init__(
        self,
        url: str,
        *,
        model: str = DEFAULT_MODEL,
        api_key: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.url = endpoint(url)
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.name = f"openai-compatible:{model}@{self.url}"
        self._client: Any = None

    @classmethod
    def from_config(cls, config: LLMConfig) -> OpenAICompatibleBackend:
        return cls(config.url, model=config.model, api_key=config.api_key, timeout=config.timeout)

    @staticmethod
    def _httpx() -> Any:
        try:
            import httpx
        except ImportError:  # pragma: no cover - httpx ships with the server extra
            raise LLMError(
                "the LLM backend needs httpx", hint="pip install 'heard[server]'"
            ) from None
        return httpx

    def _http(self) -> Any:
        if self._client is None:
            self._client = self._httpx().Client(timeout=self.timeout)
        return self._client

    def complete(self, messages: Sequence[Message], *, n: int = 3) -> list[str]:
        httpx = self._httpx()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        body = {
            "model": self.model,
            "messages": [dict(m) for m in messages],
            "temperature": 0.3,
            "max_tokens": 500,
            "stream": False,
        }
        try:
            r = self._http().post(self.url, json=body, headers=headers)
        except httpx.TimeoutException:
            raise LLMError(f"no answer from {self.url} within {self.timeout:g} s") from None
        except httpx.HTTPError as exc:
            raise LLMError(f"cannot reach {self.url}: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise LLMError(f"{self.url} answered HTTP {r.status_code}")
        try:
            content = r.json()["choices"][0]["message"]["content"]
        except (ValueError, KeyError, IndexError, TypeError):
            raise LLMError(f"{self.url} did not answer in the chat-completions format") from None
        if not isinstance(content, str):
            raise LLMError(f"{self.url} answered without text")
        replies = parse_replies(content)
        if not replies:
            raise LLMError("the LLM answer held no replies")
        return replies[:n]

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None


@lru_cache(maxsize=8)
def _backend_for(config: LLMConfig) -> OpenAICompatibleBackend:
    return OpenAICompatibleBackend.from_config(config)


def resolve_backend(llm: LLMBackend | str | None) -> LLMBackend | None:
    """The backend to use: the one given, one for a URL, or the environment's (or None)."""
    if llm is None:
        config = LLMConfig.from_env()
        return _backend_for(config) if config else None
    if isinstance(llm, str):
        env = LLMConfig.from_env()
        base = env or LLMConfig(url=llm)
        return _backend_for(
            LLMConfig(url=llm, model=base.model, api_key=base.api_key, timeout=base.timeout)
        )
    return llm


_NUMBERED = re.compile(r"^\s*(?:\d+[.)]|[-*•])\s+")


def parse_replies(content: str) -> list[str]:
    """Replies from an LLM answer: {"replies": [...]}, a JSON list, or numbered lines."""
    text = content.strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, re.S)
    if fenced:
        text = fenced.group(1).strip()
    start = min((i for i in (text.find("{"), text.find("[")) if i >= 0), default=-1)
    if start >= 0:
        try:
            data = json.loads(text[start:])
        except json.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            data = data.get("replies") or data.get("suggestions")
        if isinstance(data, list):
            return [s.strip() for s in data if isinstance(s, str) and s.strip()]
    numbered = [
        _NUMBERED.sub("", raw).strip().strip('"')
        for raw in text.splitlines()
        if _NUMBERED.match(raw)
    ]
    if numbered:
        return [ln for ln in numbered if ln]
    return [text] if text else []


_RULES = """You draft the next message a customer-service agent could send. Rules:
- Acknowledge or name the customer's feeling before explaining anything.
- Ask open questions (what, how); never ask "why".
- If they asked when or whether something will happen, answer with an estimate or a range
  first. Never invent facts: write ⟨…⟩ where the agent must fill in a time, amount or name.
- Never say "it's our policy" without the reason it protects them.
- No blame, no "calm down", no sarcasm, nothing about the agent's own day.
- Promise only something specific with a time, and only what the agent may give.
- Use the customer's own details (their order, dates, what matters to them).
Answer with JSON only: {"replies": ["first reply", "second reply", "third reply"]}"""


def build_messages(ctx: CoachContext, cues: Sequence[Cue], *, n: int = 3) -> list[dict[str, str]]:
    """The chat messages the LLM gets: the rules, the company's limits, the conversation."""
    allowed = ctx.company.remedies_for(ctx.authority)
    above = [r for r in ctx.company.remedies if r not in allowed]
    lines = [_RULES, "", f"The agent's authority level is '{ctx.authority}'."]
    if allowed:
        lines.append("They may offer: " + "; ".join(remedy_phrase(r) for r in allowed) + ".")
    if above:
        lines.append(
            "They may NOT offer (only escalate): "
            + "; ".join(f"{r.name} (needs {r.authority})" for r in above)
            + "."
        )
    for path in ctx.company.escalations_from(ctx.authority):
        lines.append(f"Escalation to {path.to_level}: {path.how}")
    transcript: list[str] = []
    for t in ctx.conversation.turns:
        who = {Speaker.customer: "Customer", Speaker.agent: "Agent"}.get(t.speaker, "System")
        transcript.append(f"{who}: {t.text}")
    convo = "\n".join(transcript)[-MAX_TRANSCRIPT_CHARS:]
    coach_notes = "\n".join(f"- {c.say} ({c.serves})" for c in cues) or "- (none)"
    user = (
        f"Conversation so far:\n{convo}\n\nCoach cues for the next message:\n{coach_notes}\n\n"
        f"Write {n} alternative replies for the agent."
    )
    return [{"role": "system", "content": "\n".join(lines)}, {"role": "user", "content": user}]


__all__ = [
    "LLMBackend",
    "LLMConfig",
    "LLMError",
    "OpenAICompatibleBackend",
    "build_messages",
    "endpoint",
    "parse_replies",
    "resolve_backend",
]
