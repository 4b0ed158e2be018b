"""Speaker names as people write them, mapped to heard's three speakers.

Exports name the same roles many ways (``client``, ``rep``, ``bot``, an ``inbound``
flag...). One table maps them all, case-insensitively, so every importer agrees.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from heard.model import Speaker

#: Every accepted spelling (lower case) and the speaker it means.
SPEAKER_ALIASES: Mapping[str, Speaker] = MappingProxyType(
    {
        **dict.fromkeys(
            (
                "customer",
                "client",
                "user",
                "caller",
                "consumer",
                "member",
                "guest",
                "inbound",
                "true",
            ),
            Speaker.customer,
        ),
        **dict.fromkeys(
            (
                "agent",
                "rep",
                "representative",
                "support",
                "advisor",
                "staff",
                "operator",
                "assistant",
                "outbound",
                "false",
            ),
            Speaker.agent,
        ),
        **dict.fromkeys(("system", "bot", "auto"), Speaker.system),
    }
)

#: Aliases that are flags in a CSV column rather than labels a transcript line starts with
#: ("True: ..." or "Outbound: ..." at the start of a line is text, not a speaker).
FLAG_ALIASES = frozenset({"true", "false", "inbound", "outbound"})

#: The words a transcript line may start with (``Customer: ...``).
TRANSCRIPT_ALIASES: Mapping[str, Speaker] = MappingProxyType(
    {k: v for k, v in SPEAKER_ALIASES.items() if k not in FLAG_ALIASES}
)


def parse_speaker(value: object) -> Speaker | None:
    """The speaker a cell or JSON value names, or None when it names none.

    JSON booleans follow the TWCS ``inbound`` convention: true is the customer.
    """
    if isinstance(value, bool):
        return Speaker.customer if value else Speaker.agent
    if isinstance(value, Speaker):
        return value
    if not isinstance(value, str):
        return None
    return SPEAKER_ALIASES.get(value.strip().lower())


def unknown_speaker_message(value: object) -> str:
    """The message for a speaker nobody can map: it names the value and the choices."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return (
        f"unknown speaker {shown}; use customer, agent or system "
        "(aliases such as client, user, rep, support, bot are accepted too)"
    )
