"""The REST API: every endpoint, its filters, and what bad input gets back.

Runs on SQLite and (marked postgres) on a real PostgreSQL server.
"""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from heard.api import create_app
from heard.service import Service
from heard.service.engine import AnalysisEngine
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import (
    BAD_PLAYBOOK,
    CONVERSATIONS,
    SAMPLE,
    SYSTEM,
    TEAM_PLAYBOOK,
    Keys,
    Raising,
    add_detector,
    auth,
    jsonl,
    make_settings,
)

NDJSON = {"content-type": "application/x-ndjson"}


def ids(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return sorted(c["id"] for c in response.json()["items"])


def error(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    body: dict[str, Any] = response.json()["error"]
    assert set(body) >= {"code", "message", "field"} and body["message"]
    return body


@pytest.fixture
def admin(client: TestClient, keys: Keys) -> dict[str, str]:
    return auth(keys.admin)


# -- health, catalog, me, docs --------------------------------------------------------------


def test_health(client: TestClient) -> None:
    body = client.get("/health").json()
    assert body["status"] == "ok" and body["database"] in {"sqlite", "postgresql"}


def test_catalog(client: TestClient, admin: dict[str, str]) -> None:
    entries = client.get("/catalog", headers=admin).json()
    by_id = {e["id"]: e for e in entries}
    assert by_id["T.mirror"]["kind"] == "technique" and by_id["X.why"]["better"] == ["T.explore"]


def test_openapi_lists_every_resource(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/conversations/import", "/conversations", "/conversations/{id}",
            "/conversations/{id}/scorecards", "/conversations/{id}/scorecards/{playbook}",
            "/commitments", "/commitments/{id}", "/playbooks", "/playbooks/{name}",
            "/analyze", "/coach", "/catalog", "/health", "/users",
            "/settings"} <= paths  # fmt: skip
    schemas = set(spec["components"]["schemas"])
    assert {"ConversationIn", "ConversationOut", "ScorecardOut", "CoachOut", "ErrorOut"} <= schemas
    assert (
        "multipart/form-data"
        in spec["paths"]["/conversations/import"]["post"]["requestBody"]["content"]
    )
    assert client.get("/docs").status_code == 200


def test_unknown_routes_get_the_error_shape(client: TestClient, admin: dict[str, str]) -> None:
    assert error(client.get("/nothing-here", headers=admin), 404)["code"] == "E404"


# -- import -------------------------------------------------------------------------------------


def test_import_multipart(client: TestClient, admin: dict[str, str]) -> None:
    upload = {"file": ("sample.jsonl", SAMPLE, "application/octet-stream")}
    r = client.post("/conversations/import", headers=admin, files=upload)
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(body["imported"]) == ["n-1", "n-2", "s-1", "x-1"]
    assert body == {**body, "source": "sample.jsonl", "skipped": 0, "problems": [], "replaced": []}
    again = client.post("/conversations/import", headers=admin, files={"file": ("s.jsonl", SAMPLE)})
    assert sorted(again.json()["replaced"]) == ["n-1", "n-2", "s-1", "x-1"]


def test_import_raw_body_jsonl_and_csv(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/conversations/import", headers={**admin, **NDJSON}, content=SAMPLE)
    assert r.status_code == 200 and len(r.json()["imported"]) == 4
    csv = (
        "conversation_id,speaker,text,ts,agent_id\n"
        "c-9,customer,Where is my refund?,2026-03-01T10:00:00Z,\n"
        "c-9,agent,I'm sorry - I will check now.,2026-03-01T10:01:00Z,a-1\n"
    )
    r = client.post("/conversations/import", headers={**admin, "content-type": "text/csv"},
                    content=csv)  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["imported"] == ["c-9"]
    turns = client.get("/conversations/c-9", headers=admin).json()["turns"]
    assert [t["agent_id"] for t in turns] == [None, "a-1"]


def test_import_reports_each_problem_with_line_and_field(
    client: TestClient, admin: dict[str, str]
) -> None:
    bad = (
        SAMPLE
        + b'{"id": "b-1", "turns": [{"speaker": "robot", "text": "beep"}]}\n'
        + b"{not json\n"
    )
    r = client.post("/conversations/import", headers={**admin, **NDJSON}, content=bad)
    assert r.status_code == 200, r.text
    body = r.json()
    assert len(body["imported"]) == 4 and body["skipped"] >= 2
    lines = {p["line"]: p for p in body["problems"]}
    assert set(lines) == {5, 6}
    assert lines[5]["field"] == "turns[0].speaker" and lines[5]["code"] == "E002"


@pytest.mark.parametrize(
    ("body", "line", "field"),
    [
        (b'{"id": "b", "turns": [{"speaker": "robot", "text": "beep"}]}\n', 1, "turns[0].speaker"),
        (b'{"id": "b", "turns": []}\n', None, "turns"),  # named by its id
        (b'{"id": "b", "turns": [{"speaker": "customer", "text": "  "}]}\n', 1, None),
        (b"{not json at all\n", 1, None),
        (b'[{"id": 1}\n', 1, None),
    ],
)
def test_nothing_importable_is_422_and_writes_nothing(
    client: TestClient, admin: dict[str, str], body: bytes, line: int | None, field: str | None
) -> None:
    err = error(
        client.post("/conversations/import", headers={**admin, **NDJSON}, content=body), 422
    )
    assert err["code"] == "E010" and err["problems"]
    assert err["problems"][0]["line"] == line
    if field:
        assert err["field"] == field
    assert client.get("/conversations", headers=admin).json()["total"] == 0


def test_a_model_that_cannot_load_is_a_503_and_nothing_is_stored(
    client: TestClient, admin: dict[str, str], service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    from heard.errors import ModelUnavailable

    missing = ModelUnavailable("the emotion weights are missing", hint="reinstall heard")
    add_detector(service, Raising(missing), monkeypatch)
    response = client.post("/conversations/import", headers={**admin, **NDJSON}, content=SAMPLE)
    err = error(response, 503)  # the server's fault, not the request's
    assert "emotion weights are missing" in err["message"] and err["hint"] == "reinstall heard"
    assert client.get("/conversations", headers=admin).json()["total"] == 0


def test_strict_import_is_all_or_nothing(client: TestClient, admin: dict[str, str]) -> None:
    bad = SAMPLE + b'{"id": "b", "turns": [{"speaker": "robot", "text": "x"}]}\n'
    err = error(client.post("/conversations/import?strict=true", headers={**admin, **NDJSON},
                            content=bad), 422)  # fmt: skip
    assert [p["line"] for p in err["problems"]] == [5]
    assert client.get("/conversations", headers=admin).json()["total"] == 0


def test_invalid_utf8_is_reported_and_the_rest_kept(
    client: TestClient, admin: dict[str, str]
) -> None:
    line = b'{"id": "u-1", "turns": [{"speaker": "customer", "text": "caf\xe9 closed"}]}\n'
    r = client.post("/conversations/import", headers={**admin, **NDJSON}, content=line)
    assert r.status_code == 200, r.text
    assert any("UTF-8" in p["message"] for p in r.json()["problems"])
    text = client.get("/conversations/u-1", headers=admin).json()["turns"][0]["text"]
    assert text == "caf\ufffd closed"


def test_empty_and_unrecognised_uploads_are_400(client: TestClient, admin: dict[str, str]) -> None:
    assert error(client.post("/conversations/import", headers={**admin, **NDJSON}, content=b""),
                 400)["code"] == "E001"  # fmt: skip
    err = error(client.post("/conversations/import?format=nope", headers=admin,
                            files={"file": ("x.jsonl", SAMPLE)}), 400)  # fmt: skip
    assert err["code"] == "E003"
    err = error(client.post("/conversations/import", headers=admin,
                            files={"other": ("x.jsonl", SAMPLE)}), 400)  # fmt: skip
    assert "'file'" in err["message"]


def test_oversized_uploads_are_413_and_write_nothing(small_client: TestClient, keys: Keys) -> None:
    big = jsonl(CONVERSATIONS * 3)
    assert len(big) > 2000
    headers = auth(keys.admin)
    err = error(small_client.post("/conversations/import", headers={**headers, **NDJSON},
                                  content=big), 413)  # fmt: skip
    assert err["code"] == "E413" and "2,000 bytes" in err["message"]
    # a chunked body (no Content-Length) is cut off as it streams
    chunks = iter([big[i : i + 500] for i in range(0, len(big), 500)])
    err = error(small_client.post("/conversations/import", headers={**headers, **NDJSON},
                                  content=chunks), 413)  # fmt: skip
    assert err["code"] == "E413"
    err = error(small_client.post("/conversations/import", headers=headers,
                                  files={"file": ("big.jsonl", big)}), 413)  # fmt: skip
    assert small_client.get("/conversations", headers=headers).json()["total"] == 0
    huge_json = {"turns": [{"speaker": "customer", "text": "x" * 3000}]}
    assert small_client.post("/analyze", headers=headers, json=huge_json).status_code == 413


def test_html_and_script_are_stored_as_text_and_returned_as_json_strings(
    loaded: Service, client: TestClient, admin: dict[str, str]
) -> None:
    r = client.get("/conversations/x-1", headers=admin)
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert "default-src 'none'" in r.headers["content-security-policy"]
    turns = r.json()["turns"]
    assert turns[0]["text"] == "<script>alert('x')</script> your site is broken"
    assert turns[1]["text"] == "Sorry about that, <b>we</b> are on it."
    assert "<script>" in r.text  # inside a JSON string, never markup of a page


# -- list and search -----------------------------------------------------------------------------


def test_list_filters(loaded: Service, client: TestClient, admin: dict[str, str]) -> None:
    def get(**params: Any) -> list[str]:
        return ids(client.get("/conversations", headers=admin, params=params))

    assert get() == ["n-1", "n-2", "s-1", "x-1"]
    assert get(agent="a-1") == ["n-1"]
    assert get(date_from="2026-03-01") == ["n-1", "s-1"]
    assert get(date_to="2026-03-02") == ["n-1", "n-2"]  # a date includes its whole day
    assert get(date_from="2026-03-02T09:30:00Z") == ["s-1"]
    assert get(q="REFUND") == ["s-1"]
    assert get(q="100%_") == []  # LIKE wildcards are escaped
    assert get(team="north") == ["n-2"]
    stored = {c: loaded.get_conversation(SYSTEM, c).analysis for c in ("n-1", "n-2", "s-1", "x-1")}
    risks = {c: a.risk for c, a in stored.items() if a is not None and a.risk is not None}
    top = max(risks, key=lambda c: risks[c].one_star)
    assert get(min_risk=risks[top].one_star) == sorted(
        c for c, r in risks.items() if r.one_star >= risks[top].one_star
    )
    level = risks[top].level
    assert get(risk=level) == sorted(c for c, r in risks.items() if r.level == level)
    with_risk = [c for c, a in stored.items() if a is not None and "C.risk" in a.ids()]
    assert with_risk and get(finding="C.risk") == sorted(with_risk)
    both = [c for c in with_risk if stored[c] is not None and "T.apologize" in stored[c].ids()]
    assert get(finding=["C.risk", "T.apologize"]) == sorted(both)
    scores = {c: a.scorecards["F.jerk"].score for c, a in stored.items() if a is not None}
    cut = sorted(s for s in scores.values() if s is not None)[len(scores) // 2]
    assert get(playbook="F.jerk", min_score=cut) == sorted(
        c for c, s in scores.items() if s is not None and s >= cut
    )
    assert get(playbook="F.jerk", max_score=cut) == sorted(
        c for c, s in scores.items() if s is not None and s <= cut
    )
    assert get(playbook="no_such") == []


def test_list_items_summarise_and_paginate(
    loaded: Service, client: TestClient, admin: dict[str, str]
) -> None:
    page = client.get("/conversations", headers=admin, params={"limit": 2, "sort": "id"}).json()
    assert page["total"] == 4 and page["limit"] == 2 and [c["id"] for c in page["items"]] == [
        "n-1", "n-2"]  # fmt: skip
    first = page["items"][0]
    assert first["agent_ids"] == ["a-1"] and first["turn_count"] == 3
    assert "jane.doe" not in first["preview"] and "[email]" in first["preview"]
    assert "F.jerk" in first["scores"] and "C.risk" in first["finding_ids"]
    assert first["open_commitments"] >= 1
    rest = client.get("/conversations", headers=admin, params={"limit": 2, "offset": 2,
                                                                "sort": "id"}).json()  # fmt: skip
    assert [c["id"] for c in rest["items"]] == ["s-1", "x-1"]
    by_risk = client.get("/conversations", headers=admin, params={"sort": "-risk"}).json()
    values = [c["risk"]["one_star"] for c in by_risk["items"]]
    assert values == sorted(values, reverse=True)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"min_risk": 2}, "min_risk"),
        ({"sort": "bogus"}, "sort"),
        ({"date_from": "yesterday-ish"}, "date_from"),
        ({"min_score": 0.5}, None),  # needs a playbook
    ],
)
def test_bad_filters_are_422_with_the_field(
    client: TestClient, admin: dict[str, str], params: dict[str, Any], field: str | None
) -> None:
    err = error(client.get("/conversations", headers=admin, params=params), 422)
    assert err["code"] == "E001"
    if field:
        assert err["field"] == field


# -- one conversation, scorecards ---------------------------------------------------------------


def test_get_conversation_with_its_analysis(
    loaded: Service, client: TestClient, admin: dict[str, str]
) -> None:
    body = client.get("/conversations/n-1", headers=admin).json()
    assert body["id"] == "n-1" and len(body["turns"]) == 3 and body["team"] is None
    analysis = body["analysis"]
    assert [t["i"] for t in analysis["turns"]] == [0, 1, 2]
    finding = analysis["turns"][0]["findings"][0]
    assert set(finding) == {"id", "span", "text", "confidence", "detector", "explanation"}
    text = body["turns"][0]["text"]
    for f in analysis["turns"][0]["findings"]:
        assert text[f["span"][0] : f["span"][1]] == f["text"]
    assert analysis["risk"]["level"] in {"low", "medium", "high"}
    assert body["commitments"] and body["commitments"][0]["source"] == "extracted"
    assert error(client.get("/conversations/zzz", headers=admin), 404)["code"] == "E404"


def test_scorecards(loaded: Service, client: TestClient, admin: dict[str, str]) -> None:
    cards = client.get("/conversations/n-1/scorecards", headers=admin).json()
    assert "F.jerk" in cards and "F.compassion" in cards
    jerk = client.get("/conversations/n-1/scorecards/F.jerk", headers=admin).json()
    assert jerk == cards["F.jerk"]
    by_name = client.get("/conversations/n-1/scorecards/jerk", headers=admin).json()
    assert by_name == jerk
    step = jerk["steps"][0]
    assert set(step) >= {"id", "name", "status", "evidence", "breaks"}
    assert error(client.get("/conversations/n-1/scorecards/nope", headers=admin), 404)


def test_a_playbook_added_later_is_scored_on_request(
    loaded: Service, client: TestClient, admin: dict[str, str]
) -> None:
    assert client.post("/playbooks", headers=admin, json={"yaml": TEAM_PLAYBOOK}).status_code == 201
    assert "north_basics" not in client.get("/conversations/s-1/scorecards", headers=admin).json()
    card = client.get("/conversations/s-1/scorecards/north_basics", headers=admin).json()
    statuses = {s["id"]: s["status"] for s in card["steps"]}
    assert statuses["no_bare_policy"] == "missed"  # "It's our policy to wait 14 days."


def test_delete_conversation(loaded: Service, client: TestClient, admin: dict[str, str]) -> None:
    assert client.delete("/conversations/n-1", headers=admin).status_code == 204
    assert client.get("/conversations/n-1", headers=admin).status_code == 404
    assert client.delete("/conversations/n-1", headers=admin).status_code == 404


# -- commitments ---------------------------------------------------------------------------------


def test_commitments_crud(loaded: Service, client: TestClient, keys: Keys) -> None:
    a1 = auth(keys.agent_1)
    listed = client.get("/commitments", headers=a1).json()
    assert listed["total"] >= 1 and {c["conversation_id"] for c in listed["items"]} == {"n-1"}
    past = {"conversation_id": "n-1", "what": "email the receipt", "due": "2026-01-01T12:00:00Z"}
    r = client.post("/commitments", headers=a1, json=past)
    assert r.status_code == 201, r.text
    made = r.json()
    assert (
        made["status"] == "overdue" and made["source"] == "manual" and made["created_by"] == "ann"
    )
    overdue = client.get("/commitments", headers=a1, params={"overdue": True}).json()["items"]
    assert made["id"] in [c["id"] for c in overdue]
    assert all(c["status"] == "overdue" for c in overdue)
    by_status = client.get("/commitments", headers=a1, params={"status": "overdue"}).json()
    assert [c["id"] for c in by_status["items"]] == [c["id"] for c in overdue]
    r = client.patch(f"/commitments/{made['id']}", headers=a1, json={"status": "done"})
    assert r.json()["status"] == "done" and r.json()["closed_at"] is not None
    done = client.get("/commitments", headers=a1, params={"status": "done"}).json()["items"]
    assert [c["id"] for c in done] == [made["id"]]
    r = client.patch(f"/commitments/{made['id']}", headers=a1, json={"due": None, "owner": "ann"})
    assert r.json()["due"] is None and r.json()["owner"] == "ann" and r.json()["status"] == "done"
    assert client.delete(f"/commitments/{made['id']}", headers=a1).status_code == 403
    lead = auth(keys.lead_north)
    assert client.delete(f"/commitments/{made['id']}", headers=lead).status_code == 204
    assert client.get(f"/commitments/{made['id']}", headers=lead).status_code == 404


def test_commitment_bad_input(loaded: Service, client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/commitments", headers=admin, json={"conversation_id": "n-1", "what": ""})
    assert error(r, 422)["field"] == "what"
    r = client.post("/commitments", headers=admin,
                    json={"conversation_id": "n-1", "what": "x", "turn": 99})  # fmt: skip
    assert "turn 99" in error(r, 400)["message"]
    r = client.patch("/commitments/1", headers=admin, json={"status": "later"})
    assert error(r, 422)["field"] == "status"


# -- playbooks -----------------------------------------------------------------------------------


def test_playbooks_crud(client: TestClient, admin: dict[str, str]) -> None:
    listed = {p["name"]: p for p in client.get("/playbooks", headers=admin).json()}
    assert listed["jerk"]["builtin"] and "steps:" in listed["jerk"]["yaml"]
    r = client.post("/playbooks", headers=admin, json={"yaml": TEAM_PLAYBOOK, "team": "north"})
    assert r.status_code == 201 and r.json()["valid"] and r.json()["team"] == "north"
    assert error(client.post("/playbooks", headers=admin, json={"yaml": TEAM_PLAYBOOK}), 409)
    got = client.get("/playbooks/north_basics", headers=admin).json()
    assert got["yaml"] == TEAM_PLAYBOOK
    changed = TEAM_PLAYBOOK.replace("two habits", "habits")
    r = client.put("/playbooks/north_basics", headers=admin, json={"yaml": changed})
    assert r.status_code == 200 and "habits." in r.json()["yaml"]
    r = client.put("/playbooks/north_basics", headers=admin,
                   json={"yaml": changed.replace("north_basics", "renamed")})  # fmt: skip
    assert error(r, 422)["code"] == "E201"
    assert error(client.put("/playbooks/jerk", headers=admin, json={"yaml": changed}), 403)
    assert client.delete("/playbooks/north_basics", headers=admin).status_code == 204
    assert error(client.get("/playbooks/north_basics", headers=admin), 404)
    builtin = TEAM_PLAYBOOK.replace("north_basics", "jerk")
    assert error(client.post("/playbooks", headers=admin, json={"yaml": builtin}), 409)


def test_invalid_playbooks_are_422_with_numbered_problems(
    client: TestClient, admin: dict[str, str]
) -> None:
    err = error(client.post("/playbooks", headers=admin, json={"yaml": BAD_PLAYBOOK}), 422)
    assert err["code"] == "E201"
    codes = [p["code"] for p in err["problems"]]
    assert "P003" in codes and "P007" in codes
    assert any("T.apologize" in p["message"] for p in err["problems"])  # the closest known id
    check = client.post("/playbooks/check", headers=admin, json={"yaml": BAD_PLAYBOOK}).json()
    assert check["valid"] is False and len(check["problems"]) == len(err["problems"])
    good = client.post("/playbooks/check", headers=admin, json={"yaml": TEAM_PLAYBOOK})
    assert good.json() == {"valid": True, "problems": []}
    not_yaml = error(client.post("/playbooks", headers=admin, json={"yaml": "a: [b"}), 422)
    assert not_yaml["problems"][0]["code"] == "P001"
    bomb = "name: b\na: &a [x, x, x]\nb: &b [*a, *a, *a]\nsteps: *b\n"
    aliased = error(client.post("/playbooks", headers=admin, json={"yaml": bomb}), 422)
    assert "aliases" in aliased["problems"][0]["message"]


# -- analyze -------------------------------------------------------------------------------------


def test_analyze_returns_the_design_form_and_stores_nothing(
    client: TestClient, admin: dict[str, str]
) -> None:
    body = CONVERSATIONS[2]
    r = client.post("/analyze", headers=admin, json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["id"] == "s-1" and [t["speaker"] for t in out["turns"]] == ["customer", "agent"]
    assert set(out) >= {"turns", "scorecards", "risk", "commitments", "tiers"}
    agent_ids = {f["id"] for f in out["turns"][1]["findings"]}
    assert "X.bare_policy" in agent_ids
    only = client.post("/analyze", headers=admin, params={"playbook": "F.jerk"}, json=body).json()
    assert list(only["scorecards"]) == ["F.jerk"]
    assert client.get("/conversations", headers=admin).json()["total"] == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"turns": [{"speaker": "customer", "text": "a"}, {"speaker": "bot", "text": "b"}]},
         "turns[1].speaker"),
        ({"turns": [{"speaker": "customer", "text": "   "}]}, "turns[0].text"),
        ({"turns": []}, "turns"),
        ({"turns": [{"speaker": "customer"}]}, "turns[0].text"),
        ({"id": "", "turns": [{"speaker": "customer", "text": "x"}]}, "id"),
        ({"turns": [{"speaker": "customer", "text": "x", "ts": "not a time"}]}, "turns[0].ts"),
    ],
)  # fmt: skip
def test_bad_conversations_are_422_with_the_field(
    client: TestClient, admin: dict[str, str], body: dict[str, Any], field: str
) -> None:
    err = error(client.post("/analyze", headers=admin, json=body), 422)
    assert err["code"] == "E001" and err["field"] == field and field in err["message"]


def test_malformed_json_bodies_are_4xx(client: TestClient, admin: dict[str, str]) -> None:
    r = client.post("/analyze", headers={**admin, "content-type": "application/json"},
                    content=b'{"turns": [')  # fmt: skip
    assert "not valid JSON" in error(r, 422)["message"]
    not_utf8 = b'{"turns": [{"speaker": "customer", "text": "\xff\xfe"}]}'
    r = client.post("/analyze", headers={**admin, "content-type": "application/json"},
                    content=not_utf8)  # fmt: skip
    assert r.status_code in (400, 422)
    assert error(r, r.status_code)["code"] == "E001"


def test_analyze_refuses_file_paths_as_playbooks(
    client: TestClient, admin: dict[str, str], tmp_path: Any
) -> None:
    path = tmp_path / "secret.yaml"
    path.write_text(TEAM_PLAYBOOK)
    r = client.post("/analyze", headers=admin, params={"playbook": str(path)},
                    json=CONVERSATIONS[2])  # fmt: skip
    assert error(r, 404)["code"] == "E404"


# -- coach ---------------------------------------------------------------------------------------


def _coach_body(**extra: Any) -> dict[str, Any]:
    conv = {"id": "live", "turns": CONVERSATIONS[2]["turns"][:1]}
    return {"conversation": conv, **extra}


def test_coach_returns_cues_and_checked_suggestions(client: TestClient, keys: Keys) -> None:
    body = _coach_body(draft="It's our policy, calm down.")
    r = client.post("/coach", headers=auth(keys.agent_1), json=body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["conversation_id"] == "live" and out["authority"] == "agent"
    assert out["cues"] and all(c["serves"].startswith("T.") for c in out["cues"])
    assert {f["id"] for f in out["draft_flags"]} & {"X.bare_policy", "X.dismiss"}
    assert out["suggestions"] and out["customer"]["energy"] is not None


def test_coach_with_a_playbook_and_authority(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    r = client.post("/coach", headers=auth(keys.lead_north),
                    json=_coach_body(playbook="company", authority="supervisor"))  # fmt: skip
    assert r.status_code == 200, r.text
    assert r.json()["playbook"] == "company" and r.json()["authority"] == "supervisor"
    # an agent may not coach above their authority
    r = client.post("/coach", headers=auth(keys.agent_1), json=_coach_body(authority="supervisor"))
    assert error(r, 403)["code"] == "E403"
    r = client.post("/coach", headers=auth(keys.lead_north), json=_coach_body(authority="king"))
    assert error(r, 422)["code"] == "E201"
    r = client.post("/coach", headers=auth(keys.agent_1), json=_coach_body(playbook="nope"))
    assert error(r, 404)
    r = client.post("/coach", headers=auth(keys.agent_1), json={"conversation": {"turns": []}})
    assert error(r, 422)["field"] == "conversation.turns"


def test_coach_answers_exactly_what_the_service_says(
    service: Service, client: TestClient, keys: Keys
) -> None:
    """The route serializes the coach's response once, in the documented CoachOut shape."""
    from heard.api.schemas import CoachIn, CoachOut

    body = _coach_body(draft="It's our policy, calm down.")
    r = client.post("/coach", headers=auth(keys.agent_1), json=body)
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    out = CoachOut.model_validate(r.json())
    want = service.coach(
        service.authenticate(keys.agent_1),
        CoachIn.model_validate(body).conversation.conversation(),
        draft=body["draft"],
    )
    assert out.model_dump(exclude={"elapsed_ms"}) == want.model_dump(exclude={"elapsed_ms"})
    assert r.headers["x-content-type-options"] == "nosniff"  # the middleware still applies


def test_the_app_warms_the_engine_up_when_it_starts(db_url: str, tmp_path: Any, keys: Keys) -> None:
    engine = AnalysisEngine(fast=True)
    svc = Service.open(make_settings(db_url, tmp_path), engine=engine)
    app = create_app(service=svc)
    assert not engine._warm
    with TestClient(app):
        assert engine._warm  # before the first request
    cold = AnalysisEngine(fast=True)
    with TestClient(create_app(service=Service(svc.settings, engine=cold), warm_up=False)):
        assert not cold._warm
    svc.close()


# -- users and settings --------------------------------------------------------------------------


def test_users_crud(client: TestClient, admin: dict[str, str]) -> None:
    cat = {"name": "cat", "role": "agent", "agent_id": "a-7", "team": "north"}
    r = client.post("/users", headers=admin, json=cat)
    assert r.status_code == 201, r.text
    created = r.json()
    key = created["key"]
    assert key.startswith(created["user"]["key_prefix"]) and len(key) > 40
    assert client.get("/me", headers=auth(key)).json()["agent_id"] == "a-7"
    listed = client.get("/users", headers=admin).json()
    assert "key" not in json.dumps(listed).replace("key_prefix", "")
    assert error(client.post("/users", headers=admin, json={"name": "cat", "role": "lead",
                                                             "team": "x"}), 409)  # fmt: skip
    assert error(client.post("/users", headers=admin, json={"name": "dog", "role": "lead"}), 400)
    assert error(client.post("/users", headers=admin, json={"name": "eel", "role": "god"}),
                 422)["field"] == "role"  # fmt: skip
    assert client.delete(f"/users/{created['user']['id']}", headers=admin).status_code == 204
    assert error(client.delete(f"/users/{created['user']['id']}", headers=admin), 404)


def test_settings(client: TestClient, admin: dict[str, str]) -> None:
    body = client.get("/settings", headers=admin).json()
    assert body["redaction"] == "redact" and body["database_backend"] in {"sqlite", "postgresql"}
    assert body["schema_revision"] and body["changed"] == []
    r = client.patch("/settings", headers=admin, json={"redaction": "keep", "playbooks": ["jerk"]})
    assert r.json()["redaction"] == "keep" and r.json()["changed"] == ["playbooks", "redaction"]
    client.post("/conversations/import", headers={**admin, **NDJSON}, content=SAMPLE)
    cards = client.get("/conversations/n-1/scorecards", headers=admin).json()
    assert list(cards) == ["F.jerk"]  # only the chosen built-in is scored now
    assert error(client.patch("/settings", headers=admin, json={"port": 1}), 422)["code"] == "E001"
    assert error(client.patch("/settings", headers=admin, json={"playbooks": ["nope"]}), 422)
    r = client.patch("/settings", headers=admin, json={"redaction": None, "playbooks": None})
    assert r.json()["changed"] == [] and r.json()["redaction"] == "redact"


# -- the docs are true ----------------------------------------------------------------------------

DOCS = Path(__file__).resolve().parent.parent / "docs" / "service.md"


def _curl_lines() -> list[str]:
    text = DOCS.read_text(encoding="utf-8")
    blocks = re.findall(r"```bash\n(.*?)```", text, re.S)
    return [line for b in blocks for line in b.splitlines() if line.startswith("curl ")]


def _replay(client: TestClient, line: str, key: str, files_dir: Path) -> Any:
    args = shlex.split(line.replace("$KEY", key))[1:]
    method, headers, url = "GET", {}, ""
    content: bytes | None = None
    files: dict[str, Any] | None = None
    it = iter(args)
    for arg in it:
        if arg == "-X":
            method = next(it)
        elif arg == "-H":
            name, _, value = next(it).partition(": ")
            headers[name] = value
        elif arg == "-F":
            field, _, path = next(it).partition("=@")
            files = {field: (path, (files_dir / path).read_bytes())}
            method = "POST"
        elif arg in ("-d", "--data-binary"):
            value = next(it)
            content = (
                (files_dir / value[1:]).read_bytes() if value.startswith("@") else value.encode()
            )
            method = "POST" if method == "GET" else method
        elif arg.startswith("http"):
            url = arg
        else:
            raise AssertionError(f"the docs' curl uses {arg!r}, which this test cannot replay")
    path = urlsplit(url)
    assert path.netloc == "127.0.0.1:8765", "the docs should use heard serve's default address"
    target = path.path + (f"?{path.query}" if path.query else "")
    return client.request(method, target, headers=headers, content=content, files=files)


def test_the_docs_curl_examples_work_against_the_demo_data(
    service: Service, client: TestClient, keys: Keys, tmp_path: Path
) -> None:
    from heard.cli.commands_service import examples_path

    service.import_file(SYSTEM, examples_path(), name="examples")
    (tmp_path / "chats.jsonl").write_bytes(SAMPLE)
    lines = _curl_lines()
    assert len(lines) >= 8
    for line in lines:
        r = _replay(client, line, keys.admin, tmp_path)
        assert r.status_code < 300, (line, r.text)
        assert r.json() is not None


def test_every_setting_and_service_command_option_is_documented() -> None:
    import typer.main

    from heard.cli import app
    from heard.settings import Settings

    text = DOCS.read_text(encoding="utf-8")
    for name in Settings.model_fields:
        assert f"`HEARD_{name.upper()}`" in text, f"HEARD_{name.upper()} is not in {DOCS.name}"
    group: Any = typer.main.get_command(app)
    commands: list[tuple[str, Any]] = []
    for name in ("serve", "import", "reanalyze", "commitments", "users"):
        command = group.commands[name]
        if hasattr(command, "commands"):  # a group: users add / list / remove
            commands += [(f"{name} {n}", c) for n, c in command.commands.items()]
        else:
            commands.append((name, command))
    for name, command in commands:
        assert f"heard {name}" in text, f"'heard {name}' is not documented"
        for param in command.params:
            for opt in getattr(param, "opts", []):
                if opt.startswith("--") and opt != "--help":
                    assert opt in text, f"'heard {name} {opt}' is not documented"
