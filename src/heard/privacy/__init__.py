"""Privacy: personal data found and masked locally before anything is stored."""

from heard.privacy.checks import card_ok, iban_ok, luhn_ok
from heard.privacy.redact import (
    DETECTOR,
    KINDS,
    Match,
    RedactedConversation,
    RedactedText,
    Redaction,
    find_pii,
    redact_conversation,
    redact_text,
)

__all__ = [
    "DETECTOR",
    "KINDS",
    "Match",
    "RedactedConversation",
    "RedactedText",
    "Redaction",
    "card_ok",
    "find_pii",
    "iban_ok",
    "luhn_ok",
    "redact_conversation",
    "redact_text",
]
