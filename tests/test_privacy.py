"""Privacy: what is masked, the look-alikes that are not, and how stored text is shown.

Positive cases, near misses (order and tracking numbers, dates, prices, versions) and
the two storage modes: 'redact' (only masked text is stored) and 'keep' (originals for
admins only).
"""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from heard.model import Conversation, Turn
from heard.privacy import (
    DETECTOR,
    card_ok,
    find_pii,
    iban_ok,
    luhn_ok,
    redact_conversation,
    redact_text,
)
from heard.service import ConversationQuery, Service
from heard.storage.models import TurnRow
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import SAMPLE, SYSTEM, Keys, auth


def kinds(text: str) -> list[tuple[str, str]]:
    return [(m.kind, text[m.start : m.end]) for m in find_pii(text)]


# -- checks ----------------------------------------------------------------------------------


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and luhn_ok("79927398713")
    assert not luhn_ok("4111111111111112") and not luhn_ok("79927398710")
    assert not card_ok("0000000000000000")  # Luhn-valid, but no card is all zeros
    assert not card_ok("411120945512")  # 12 digits: too short for a card


def test_iban_mod97_and_length() -> None:
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and iban_ok("de89370400440532013000")
    assert not iban_ok("GB82 WEST 1234 5698 7654 33")  # one digit off: mod 97 fails
    assert not iban_ok("DE8937040044053201300")  # a German IBAN has 22 characters


# -- what is masked ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "write to jane.doe+orders@example.co.uk please",
            ("email", "jane.doe+orders@example.co.uk"),
        ),
        ("call me on +44 20 7946 0958 today", ("phone", "+44 20 7946 0958")),
        ("my cell is +1 (555) 123-4567", ("phone", "+1 (555) 123-4567")),
        ("ring (555) 123-4567 after six", ("phone", "(555) 123-4567")),
        ("or 555.123.4567", ("phone", "555.123.4567")),
        ("0044 20 7946 0958 is the office", ("phone", "0044 20 7946 0958")),
        ("mobile 07700 900123", ("phone", "07700 900123")),
        ("+49 30 12345678 in Berlin", ("phone", "+49 30 12345678")),
        ("my number is 5551234567", ("phone", "5551234567")),
        ("card 4111 1111 1111 1111 was declined", ("card", "4111 1111 1111 1111")),
        ("amex 3782-822463-10005 too", ("card", "3782-822463-10005")),
        (
            "IBAN GB82 WEST 1234 5698 7654 32 for the refund",
            ("iban", "GB82 WEST 1234 5698 7654 32"),
        ),
        ("pay DE89370400440532013000 now", ("iban", "DE89370400440532013000")),
        ("my account number is 12345678", ("account", "12345678")),
        ("acct #00-4471-93 was frozen", ("account", "00-4471-93")),
        ("I live at 221B Baker Street, London", ("address", "221B Baker Street")),
        ("send it to 12 main street please", ("address", "12 main street")),
        ("Hi Sarah, thanks for waiting", ("name", "Sarah")),
        ("Hello Mr. Okafor!", ("name", "Okafor")),
        ("this is Tom from the returns team", ("name", "Tom")),
        ("Hi, this is Dana. My card was charged twice", ("name", "Dana")),
        ("Hello! I'm Priya Shah.", ("name", "Priya Shah")),
        ("Dear Maria Lopez, your claim", ("name", "Maria Lopez")),
        ("my name is jordan", ("name", "jordan")),
        ("Thanks, Priya.", ("name", "Priya")),
    ],
)
def test_personal_data_is_found(text: str, expected: tuple[str, str]) -> None:
    assert expected in kinds(text)


@pytest.mark.parametrize(
    "text",
    [
        "Order 4111-2094-5512 arrived broken",  # fails Luhn, and it is an order number
        "order number 4111 1111 1111 1112",  # 16 digits that fail Luhn
        "Order #4111111111111111 is late",  # Luhn-valid, but said to be an order
        "tracking number 1234 5678 9012 shows nothing",
        "UPS 1Z999AA10123456784 and USPS 9400 1000 0000 0000 0000 00",
        "it was delivered on 2026-01-02, or 01/02/2026, or 12.03.2026",
        "it cost $1,299.99 (or 1299.99 EUR, or 1 299,00 zl)",
        "I run v1.0.64.399 and version 1.0.64.399 of the app",
        "at 10:30 on the 3rd, ticket #55512345",
        "my account was charged twice",
        "I waited 3 hours on the road",
        "Hello everyone, hi there, Dear Customer",
        "This is ridiculous! I'm not happy.",
        "Hi, this is Ridiculous service",  # a word in the stop list is not a name
        "Hi, I'm Sorry to bother you",
        "reference 5551234567 from last week",
        "IBAN GB82 WEST 1234 5698 7654 33",  # checksum fails
        "call 112 now",  # too short to be a personal number
    ],
)
def test_look_alikes_are_not_masked(text: str) -> None:
    assert kinds(text) == []


def test_spans_point_at_placeholders_and_originals() -> None:
    text = "Hi Sarah, mail sarah@x.org or call +44 20 7946 0958."
    result = redact_text(text)
    assert result.text == "Hi [name], mail [email] or call [phone]."
    for match, start, end in result.masks:
        placeholder = result.text[start:end]
        assert placeholder == f"[{match.kind}]"
        assert text[match.start : match.end] in {"Sarah", "sarah@x.org", "+44 20 7946 0958"}


def test_a_name_is_masked_wherever_it_recurs_in_the_conversation() -> None:
    conv = Conversation(
        id="c",
        meta={"customer": "Sarah Jones", "email": "sj@example.com", "tier": 3},
        turns=[
            Turn(speaker="agent", text="Hi Sarah, I'm Tom from billing."),
            Turn(speaker="customer", text="Tom, I already told you. Sarah is my name, Sarahs!"),
        ],
    )
    red = redact_conversation(conv)
    texts = [t.text for t in red.conversation.turns]
    assert texts == [
        "Hi [name], I'm [name] from billing.",
        "[name], I already told you. [name] is my name, Sarahs!",
    ]
    assert red.originals == [t.text for t in conv.turns]
    assert red.conversation.meta == {"customer": "[name] Jones", "email": "[email]", "tier": 3}
    assert red.meta_original == conv.meta
    assert {r.id for r in red.redactions} == {"P.name"}
    assert all(r.detector == DETECTOR == "privacy.redact@1" for r in red.redactions)
    for r in red.redactions:
        assert texts[r.turn][r.span[0] : r.span[1]] == "[name]"
        assert conv.turns[r.turn].text[r.original_span[0] : r.original_span[1]] in {"Sarah", "Tom"}


def test_text_without_personal_data_is_untouched() -> None:
    conv = Conversation(id="c", turns=[Turn(speaker="customer", text="Where is my parcel?")])
    red = redact_conversation(conv)
    assert red.conversation.turns[0].text == "Where is my parcel?"
    assert red.originals == [None] and red.redactions == [] and not red.changed


# -- stored: 'redact' mode ---------------------------------------------------------------------


def test_redact_mode_stores_masked_text_only(loaded: Service) -> None:
    with loaded.db.session() as s:
        texts = list(s.scalars(select(TurnRow.text).where(TurnRow.conversation_id == "n-1")))
        originals = list(s.scalars(select(TurnRow.original)))
    joined = " ".join(texts)
    assert "jane.doe@example.com" not in joined and "7946" not in joined
    assert "[email]" in joined and "[phone]" in joined
    assert "order 4111-2094-5512" in joined  # an order number is kept
    assert set(originals) == {None}


def test_redactions_are_a_separate_list_on_the_analysis(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    body = client.get("/conversations/n-1", headers=auth(keys.admin)).json()
    redactions = body["analysis"]["redactions"]
    assert {r["id"] for r in redactions} >= {"P.email", "P.phone", "P.name"}
    assert all(r["detector"] == "privacy.redact@1" and r["original"] is None for r in redactions)
    catalog_ids = {f["id"] for t in body["analysis"]["turns"] for f in t["findings"]}
    assert not any(i.startswith("P.") for i in catalog_ids)
    for r in redactions:
        text = body["turns"][r["turn"]]["text"]
        assert text[r["span"][0] : r["span"][1]] == r["text"]


# -- stored: 'keep' mode -----------------------------------------------------------------------


@pytest.fixture
def kept(service: Service, keys: Keys) -> Service:
    service.update_settings(SYSTEM, {"redaction": "keep"})
    service.import_bytes(SYSTEM, SAMPLE, name="sample.jsonl")
    return service


def test_keep_mode_shows_originals_to_admins_only(
    kept: Service, client: TestClient, keys: Keys
) -> None:
    admin = client.get("/conversations/n-1", headers=auth(keys.admin)).json()
    assert admin["originals_shown"] is True and admin["redaction"] == "keep"
    assert "jane.doe@example.com" in admin["turns"][0]["text"]
    shown = {r["id"]: r["original"] for r in admin["analysis"]["redactions"]}
    assert shown["P.email"] == "jane.doe@example.com"
    assert admin["meta"] == {"customer": "Jane Doe"}

    for key in (keys.lead_north, keys.agent_1):
        other = client.get("/conversations/n-1", headers=auth(key)).json()
        assert other["originals_shown"] is False
        assert "jane.doe" not in str(other) and "7946" not in str(other)
        assert "[email]" in other["turns"][0]["text"]
        assert other["meta"] == {"customer": "[name] Doe"}


def test_keep_mode_search_finds_originals_for_admins_only(kept: Service) -> None:
    from heard.service import Principal, Role

    lead = Principal(name="nora", role=Role.lead, team="north")
    q = ConversationQuery(q="jane.doe@example")
    assert [c.id for c in kept.list_conversations(SYSTEM, q).items] == ["n-1"]
    assert kept.list_conversations(lead, q).items == []  # PII cannot be probed by search
    previews = [c.preview for c in kept.list_conversations(lead).items]
    assert previews and not any("jane.doe" in p for p in previews)
    admin_previews = {c.id: c.preview for c in kept.list_conversations(SYSTEM).items}
    assert "jane.doe@example.com" in admin_previews["n-1"]


def test_analysis_reads_the_masked_text_in_both_modes(kept: Service) -> None:
    stored = kept.get_conversation(SYSTEM, "n-1")
    assert stored.analysis is not None
    finding_texts = " ".join(f.text for f in stored.analysis.findings)
    commitments = " ".join(c.what for c in stored.analysis.commitments)
    assert "jane.doe" not in finding_texts + commitments
