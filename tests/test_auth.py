"""Auth and roles: keys, every endpoint checked, and nothing leaks across agents or teams."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from sqlalchemy import select

from heard.api.deps import current_principal
from heard.service import Principal, Role, Service
from heard.service.auth import hash_key, key_matches, key_prefix
from heard.storage.models import UserRow
from service_fixtures import *  # noqa: F403  (the fixtures)
from service_fixtures import CONVERSATIONS, SYSTEM, TEAM_PLAYBOOK, Keys, auth

PUBLIC = {"/health", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}


def _needs_key(dependant: Any) -> bool:
    if dependant.call is current_principal:
        return True
    return any(_needs_key(d) for d in dependant.dependencies)


def _routes() -> list[APIRoute]:
    from heard.api.app import ROUTERS

    return [r for router in ROUTERS for r in router.routes if isinstance(r, APIRoute)]


def _example_path(path: str) -> str:
    return path.replace("{id}", "1").replace("{playbook}", "F.jerk").replace("{name}", "x")


# -- keys ------------------------------------------------------------------------------------


def test_keys_are_stored_hashed_with_a_salt(service: Service) -> None:
    _, key_a = service.add_user(SYSTEM, "a", "admin")
    _, key_b = service.add_user(SYSTEM, "b", "admin")
    with service.db.session() as s:
        rows = {r.name: r for r in s.scalars(select(UserRow))}
    for name, key in (("a", key_a), ("b", key_b)):
        row = rows[name]
        assert key not in (row.key_hash, row.key_salt, row.key_prefix)
        assert row.key_prefix == key_prefix(key) and len(row.key_prefix) < len(key) // 3
        assert row.key_hash == hash_key(key, row.key_salt)
        assert key_matches(key, row.key_salt, row.key_hash)
        assert not key_matches(key + "x", row.key_salt, row.key_hash)
    assert rows["a"].key_salt != rows["b"].key_salt


def test_leads_need_a_team_and_agents_an_agent_id(service: Service) -> None:
    from heard.errors import InputError

    with pytest.raises(InputError, match="team"):
        service.add_user(SYSTEM, "l", "lead")
    with pytest.raises(InputError, match="agent id"):
        service.add_user(SYSTEM, "g", "agent", team="north")
    with pytest.raises(InputError, match="role"):
        service.add_user(SYSTEM, "x", "boss")


def test_only_admins_manage_users(service: Service) -> None:
    from heard.errors import Forbidden

    lead = Principal(name="nora", role=Role.lead, team="north")
    with pytest.raises(Forbidden):
        service.add_user(lead, "new", "admin")


# -- every endpoint is checked --------------------------------------------------------------


def test_every_endpoint_but_health_declares_a_role() -> None:
    routes = _routes()
    assert len(routes) > 20
    open_routes = [r.path for r in routes if not _needs_key(r.dependant) and r.path not in PUBLIC]
    assert open_routes == []


def test_every_endpoint_refuses_requests_without_a_valid_key(client: TestClient) -> None:
    for route in _routes():
        if route.path in PUBLIC:
            continue
        for method in route.methods:
            for headers in ({}, auth("heard_notakey"), {"X-API-Key": "wrong"}):
                r = client.request(method, _example_path(route.path), headers=headers)
                assert r.status_code == 401, (method, route.path, headers, r.text)
                assert r.json()["error"]["code"] == "E402"
                assert r.headers["www-authenticate"] == "Bearer"


def test_health_needs_no_key(client: TestClient) -> None:
    r = client.get("/health")
    assert r.status_code == 200 and r.json()["status"] == "ok"


def test_bearer_and_x_api_key_both_work(client: TestClient, keys: Keys) -> None:
    assert client.get("/me", headers=auth(keys.agent_1)).json()["agent_id"] == "a-1"
    me = client.get("/me", headers={"X-API-Key": keys.lead_north}).json()
    assert me == {"name": "nora", "role": "lead", "team": "north", "agent_id": None}


def test_a_deleted_user_key_stops_working(client: TestClient, keys: Keys) -> None:
    users = client.get("/users", headers=auth(keys.admin)).json()
    bob = next(u for u in users if u["name"] == "bob")
    assert client.get("/me", headers=auth(keys.agent_2)).status_code == 200
    assert client.delete(f"/users/{bob['id']}", headers=auth(keys.admin)).status_code == 204
    assert client.get("/me", headers=auth(keys.agent_2)).status_code == 401


def test_a_key_removed_by_another_process_stops_working_at_once(
    client: TestClient, keys: Keys, settings: Any
) -> None:
    """The API reads the key's row on every request: a user removed through another
    Service on the same database (as `heard users remove` does) is refused right away,
    on the coach's hot path too, while the other keys keep working."""
    body = {"conversation": {"turns": [{"speaker": "customer", "text": "Where is my refund?"}]}}
    for _ in range(3):  # the key has been used, and verified, many times
        assert client.post("/coach", headers=auth(keys.agent_2), json=body).status_code == 200
    other = Service.open(settings, migrate=False)
    try:
        other.delete_user(SYSTEM, "bob")
    finally:
        other.close()
    assert client.post("/coach", headers=auth(keys.agent_2), json=body).status_code == 401
    assert client.get("/me", headers=auth(keys.agent_2)).status_code == 401
    assert client.post("/coach", headers=auth(keys.agent_1), json=body).status_code == 200


def test_a_key_only_works_whole(client: TestClient, keys: Keys) -> None:
    """The row is found by the key's prefix; the rest of the key must match its hash."""
    forged = key_prefix(keys.admin) + "x" * (len(keys.admin) - len(key_prefix(keys.admin)))
    assert client.get("/me", headers=auth(forged)).status_code == 401
    assert client.get("/me", headers=auth(keys.admin[:-1])).status_code == 401
    assert client.get("/me", headers=auth(key_prefix(keys.admin))).status_code == 401
    assert client.get("/me", headers=auth(keys.admin)).status_code == 200


def test_the_last_admin_cannot_be_removed(client: TestClient, keys: Keys) -> None:
    users = client.get("/users", headers=auth(keys.admin)).json()
    root = next(u for u in users if u["role"] == "admin")
    r = client.delete(f"/users/{root['id']}", headers=auth(keys.admin))
    assert r.status_code == 409 and "last admin" in r.json()["error"]["message"]
    made = client.post("/users", headers=auth(keys.admin), json={"name": "z", "role": "admin"})
    assert client.delete(f"/users/{root['id']}", headers=auth(keys.admin)).status_code == 204
    assert client.get("/me", headers=auth(made.json()["key"])).json()["role"] == "admin"


@pytest.mark.parametrize(
    ("role", "method", "path", "json"),
    [
        ("agent_1", "POST", "/conversations/import", None),
        ("agent_1", "DELETE", "/conversations/n-1", None),
        ("agent_1", "GET", "/playbooks", None),
        ("agent_1", "DELETE", "/commitments/1", None),
        ("agent_1", "GET", "/users", None),
        ("lead_north", "GET", "/users", None),
        ("lead_north", "POST", "/users", {"name": "x", "role": "admin"}),
        ("lead_north", "GET", "/settings", None),
        ("lead_north", "PATCH", "/settings", {"redaction": "keep"}),
    ],
)
def test_roles_are_enforced(
    loaded: Service,
    client: TestClient,
    keys: Keys,
    role: str,
    method: str,
    path: str,
    json: Any,
) -> None:
    r = client.request(method, path, headers=auth(getattr(keys, role)), json=json)
    assert r.status_code == 403, r.text
    assert r.json()["error"]["code"] == "E403"


# -- agents see their own conversations only ----------------------------------------------------


def test_an_agent_cannot_read_another_agents_conversation(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    mine = client.get("/conversations/n-1", headers=auth(keys.agent_1))
    assert mine.status_code == 200
    for path in ("/conversations/s-1", "/conversations/s-1/scorecards",
                 "/conversations/s-1/scorecards/F.jerk", "/conversations/nope"):  # fmt: skip
        r = client.get(path, headers=auth(keys.agent_1))
        assert r.status_code == 404, path
        assert "s-1" not in r.text or "no conversation 's-1'" in r.text
    # the same answer whether it exists or not: existence does not leak
    gone = client.get("/conversations/nope", headers=auth(keys.agent_1)).json()
    other = client.get("/conversations/s-1", headers=auth(keys.agent_1)).json()
    assert gone["error"]["code"] == other["error"]["code"] == "E404"


def _ids(client: TestClient, key: str, **params: Any) -> list[str]:
    r = client.get("/conversations", headers=auth(key), params=params)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["total"] == len(body["items"])
    return sorted(c["id"] for c in body["items"])


def test_nothing_leaks_in_lists_and_searches(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    a1, a2 = keys.agent_1, keys.agent_2
    assert _ids(client, a1) == ["n-1"]
    assert _ids(client, a2) == ["s-1"]
    assert _ids(client, a1, q="refund") == []  # s-1's words
    assert _ids(client, a2, q="refund") == ["s-1"]
    assert _ids(client, a1, agent="a-2") == []
    assert _ids(client, a1, q="s-1") == []
    stored = loaded.get_conversation(SYSTEM, "s-1").analysis
    assert stored is not None
    for finding in stored.ids():
        assert "s-1" not in _ids(client, a1, finding=finding)
    assert _ids(client, a1, playbook="F.jerk") == ["n-1"]
    commitments = client.get("/commitments", headers=auth(a2)).json()["items"]
    assert all(c["conversation_id"] == "s-1" for c in commitments)
    assert "n-1" not in str(commitments)


def test_an_agent_cannot_touch_another_agents_commitments(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    made = loaded.add_commitment(SYSTEM, "n-1", what="ring back")
    for method, json in (("GET", None), ("PATCH", {"status": "done"})):
        r = client.request(method, f"/commitments/{made.id}", headers=auth(keys.agent_2), json=json)
        assert r.status_code == 404
    r = client.post("/commitments", headers=auth(keys.agent_2),
                    json={"conversation_id": "n-1", "what": "x"})  # fmt: skip
    assert r.status_code == 404
    assert loaded.get_commitment(SYSTEM, made.id).status == "open"
    r = client.patch(f"/commitments/{made.id}", headers=auth(keys.agent_1), json={"status": "done"})
    assert r.status_code == 200 and r.json()["status"] == "done"


def test_an_agent_without_conversations_sees_none(loaded: Service, client: TestClient) -> None:
    _, key = loaded.add_user(SYSTEM, "new", "agent", agent_id="a-99")
    assert _ids(client, key) == []
    assert client.get("/commitments", headers=auth(key)).json()["items"] == []


# -- leads see their team ---------------------------------------------------------------------


def test_leads_see_their_teams_conversations(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    # n-1: agent a-1 is a north user; n-2: filed under north; s-1: a-2 is a south user
    assert _ids(client, keys.lead_north) == ["n-1", "n-2"]
    assert _ids(client, keys.lead_south) == ["s-1"]
    assert _ids(client, keys.admin) == ["n-1", "n-2", "s-1", "x-1"]
    assert client.get("/conversations/s-1", headers=auth(keys.lead_north)).status_code == 404
    assert (
        client.get("/conversations/n-2/scorecards", headers=auth(keys.lead_north)).status_code
        == 200
    )


def test_a_lead_import_is_filed_under_the_team_and_cannot_overwrite_others(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    mine = {"id": "l-1", "turns": [{"speaker": "customer", "text": "Hello?"}]}
    theirs = {"id": "s-1", "turns": [{"speaker": "customer", "text": "overwritten"}]}
    body = "\n".join(__import__("json").dumps(c) for c in (mine, theirs))
    r = client.post("/conversations/import", headers={**auth(keys.lead_north),
                    "content-type": "application/x-ndjson"}, content=body)  # fmt: skip
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["imported"] == ["l-1"] and out["skipped"] == 1
    assert out["problems"][0]["field"] == "id"
    assert loaded.get_conversation(SYSTEM, "l-1").team == "north"
    s1 = loaded.get_conversation(SYSTEM, "s-1").conversation
    assert s1.turns[0].text == CONVERSATIONS[2]["turns"][0]["text"]


def test_leads_manage_only_their_teams_playbooks(
    loaded: Service, client: TestClient, keys: Keys
) -> None:
    r = client.post("/playbooks", headers=auth(keys.lead_north), json={"yaml": TEAM_PLAYBOOK})
    assert r.status_code == 201 and r.json()["team"] == "north"
    assert client.get("/playbooks/north_basics", headers=auth(keys.lead_south)).status_code == 404
    r = client.put("/playbooks/north_basics", headers=auth(keys.lead_south),
                   json={"yaml": TEAM_PLAYBOOK})  # fmt: skip
    assert r.status_code == 404
    other = {"yaml": TEAM_PLAYBOOK.replace("north_basics", "x"), "team": "north"}
    r = client.post("/playbooks", headers=auth(keys.lead_south), json=other)
    assert r.status_code == 403
    south = [p["name"] for p in client.get("/playbooks", headers=auth(keys.lead_south)).json()]
    assert "north_basics" not in south
    assert (
        client.delete("/playbooks/north_basics", headers=auth(keys.lead_north)).status_code == 204
    )


# -- serve -------------------------------------------------------------------------------------


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """Capture uvicorn.run instead of serving."""
    import uvicorn

    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append({"app": app, **kw}))
    return calls


def _cli(*args: str) -> Any:
    from typer.testing import CliRunner

    from heard.cli import app

    return CliRunner().invoke(app, list(args))


def test_serve_refuses_a_public_address_without_an_admin_key(
    tmp_path: Any, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARD_FAST", "1")
    db = str(tmp_path / "serve.db")
    result = _cli("serve", "--host", "0.0.0.0", "--db", db)
    assert result.exit_code == 2 and served == []
    said = " ".join(result.output.split())
    assert "E421" in said and "heard users add NAME --role admin" in said
    assert _cli("users", "add", "lead", "--role", "lead", "--team", "t", "--db", db).exit_code == 0
    assert _cli("serve", "--host", "0.0.0.0", "--db", db).exit_code == 2  # a lead is not enough
    added = _cli("users", "add", "root", "--role", "admin", "--db", db)
    assert added.exit_code == 0 and "heard_" in added.output
    result = _cli("serve", "--host", "0.0.0.0", "--port", "9911", "--db", db)
    assert result.exit_code == 0, result.output
    assert served[0]["host"] == "0.0.0.0" and served[0]["port"] == 9911


def test_serve_on_loopback_starts_without_keys_but_says_so(
    tmp_path: Any, served: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HEARD_FAST", "1")
    result = _cli("serve", "--db", str(tmp_path / "serve.db"))
    assert result.exit_code == 0 and served[0]["host"] == "127.0.0.1"
    assert "no API keys yet" in result.output


def test_serve_demo_loads_examples_and_prints_a_working_key(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Any
) -> None:
    import uvicorn

    monkeypatch.setenv("HEARD_FAST", "1")
    monkeypatch.setenv("HEARD_DATA_DIR", str(tmp_path))
    seen: dict[str, Any] = {}

    def fake_run(app: Any, **kw: Any) -> None:  # what a client sees while the demo runs
        key = next(w for w in capsys.readouterr().out.split() if w.startswith("heard_"))
        with TestClient(app) as c:
            seen["total"] = c.get("/conversations", headers=auth(key)).json()["total"]
            seen["anonymous"] = c.get("/conversations").status_code
        seen.update(kw)

    monkeypatch.setattr(uvicorn, "run", fake_run)
    from heard.cli import app

    with pytest.raises(SystemExit) as done:
        app(["serve", "--demo", "--port", "9912"])
    assert done.value.code in (0, None)
    assert seen["total"] >= 10 and seen["anonymous"] == 401
    assert seen["host"] == "127.0.0.1" and seen["port"] == 9912
    assert (tmp_path / "demo" / "demo.db").exists()  # in the data dir, not the user's
    assert _cli("serve", "--demo", "--host", "0.0.0.0").exit_code == 2
