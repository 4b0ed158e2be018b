"""Data integrity under concurrent use, on SQLite and PostgreSQL.

Threads start together on a `threading.Barrier`, are joined with timeouts, and every
scenario runs a bounded number of rounds; nothing sleeps to synchronise.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from heard.errors import NotFound, ServiceError
from heard.service import AnalysisEngine, Service
from heard.service.errors import Conflict
from heard.storage import repository
from heard.storage.models import (
    AnalysisRow,
    CommitmentRow,
    ConversationRow,
    FindingRow,
    PlaybookRow,
    TurnRow,
    UserRow,
)
from service_fixtures import *  # noqa: F403
from service_fixtures import CONVERSATIONS, SYSTEM, Raising, add_detector, jsonl, make_settings

ROUNDS = 8
JOIN = 60.0


def variant(tag: str, extra_turns: int) -> list[dict[str, Any]]:
    """The sample conversations with every turn marked `tag` and `extra_turns` more."""
    out = copy.deepcopy(CONVERSATIONS)
    for c in out:
        for t in c["turns"]:
            t["text"] = f"{t['text']} [{tag}]"
        for k in range(extra_turns):
            c["turns"].append({"speaker": "customer", "text": f"one more thing {k} [{tag}]"})
    return out


A = variant("alpha", 0)
B = variant("beta", 2)


def run_together(*calls: Callable[[], Any]) -> list[Any]:
    """Run `calls` in threads released at once; each result, or the exception raised."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def worker(k: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=JOIN)
            results[k] = call()
        except BaseException as exc:
            results[k] = exc

    threads = [threading.Thread(target=worker, args=(k, c)) for k, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=JOIN)
        assert not t.is_alive(), "a thread did not finish"
    return results


def no_unexpected(results: list[Any], *allowed: type[BaseException]) -> None:
    for r in results:
        if isinstance(r, BaseException) and not isinstance(r, allowed):
            raise AssertionError(f"unexpected {type(r).__name__}: {r}") from r


def check_whole(service: Service, ids: list[str], tags: dict[str, int]) -> None:
    """Each conversation stored once, with the turns, analysis, findings and commitments
    of one of the variants (tag -> number of turns), never a mix or duplicates."""
    with service.db.session() as session:
        for cid in ids:
            assert (
                session.scalar(
                    select(func.count())
                    .select_from(ConversationRow)
                    .where(ConversationRow.id == cid)
                )
                == 1
            )
            row = session.get(ConversationRow, cid)
            assert row is not None
            turns = session.scalars(
                select(TurnRow).where(TurnRow.conversation_id == cid).order_by(TurnRow.i)
            ).all()
            assert [t.i for t in turns] == list(range(len(turns)))
            found = {tag for tag in tags if all(f"[{tag}]" in t.text for t in turns)}
            assert len(found) == 1, f"{cid}: turns of {found or 'no variant'}"
            (tag,) = found
            base = next(c for c in CONVERSATIONS if c["id"] == cid)
            assert len(turns) == len(base["turns"]) + tags[tag] == row.turn_count
            arow = session.get(AnalysisRow, cid)
            assert arow is not None
            findings = session.scalars(
                select(FindingRow).where(FindingRow.conversation_id == cid)
            ).all()
            keys = [(f.catalog_id, f.turn, f.span_start, f.span_end, f.detector) for f in findings]
            assert len(keys) == len(set(keys)), f"{cid}: duplicated findings"
            assert all(f.turn is None or f.turn < len(turns) for f in findings)
            for f in findings:  # a finding quotes the stored turn it points at
                if f.turn is not None and f.text:
                    assert f.text in turns[f.turn].text, (cid, f.catalog_id, f.text)
            commitments = session.scalars(
                select(CommitmentRow).where(CommitmentRow.conversation_id == cid)
            ).all()
            assert sorted((c.turn, c.what) for c in commitments) == sorted(
                (c["turn"], c["what"]) for c in arow.data.get("commitments", [])
            )


# -- imports -------------------------------------------------------------------------------


def test_overlapping_imports_store_one_whole_version(service: Service) -> None:
    ids = [c["id"] for c in CONVERSATIONS]
    for _ in range(ROUNDS):
        results = run_together(
            lambda: service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl"),
            lambda: service.import_bytes(SYSTEM, jsonl(B), name="b.jsonl"),
        )
        no_unexpected(results)
        for r in results:
            assert sorted(r.imported) == sorted(ids), r
        check_whole(service, ids, {"alpha": 0, "beta": 2})
        for cid in ids:  # start again from an empty database
            service.delete_conversation(SYSTEM, cid)


def test_overlapping_imports_over_stored_ones(service: Service) -> None:
    ids = [c["id"] for c in CONVERSATIONS]
    service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
    for _ in range(ROUNDS):
        results = run_together(
            lambda: service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl"),
            lambda: service.import_bytes(SYSTEM, jsonl(B), name="b.jsonl"),
        )
        no_unexpected(results)
        check_whole(service, ids, {"alpha": 0, "beta": 2})


def test_import_failing_on_one_conversation_keeps_the_stored_version(
    service: Service, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = [c["id"] for c in CONVERSATIONS]
    service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
    add_detector(service, Raising(RuntimeError("boom"), only="s-1"), monkeypatch)
    report = service.import_bytes(SYSTEM, jsonl(B), name="b.jsonl")
    assert "s-1" not in report.imported
    assert any("s-1" in p.message for p in report.problems)
    with service.db.session() as session:
        texts = [
            t.text for t in session.scalars(select(TurnRow).where(TurnRow.conversation_id == "s-1"))
        ]
    assert texts and all("[alpha]" in t for t in texts)
    # the others are the new version, whole
    tags = {"alpha": 0, "beta": 2}
    check_whole(service, ids, tags)


# -- reading, deleting, re-analysing ---------------------------------------------------------


def test_delete_while_reading_is_whole_or_not_found(service: Service) -> None:
    for _ in range(ROUNDS):
        service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
        base = next(c for c in CONVERSATIONS if c["id"] == "n-1")

        def read(base: dict[str, Any] = base) -> int:
            got = service.get_conversation(SYSTEM, "n-1")
            assert len(got.conversation.turns) == len(base["turns"])
            assert got.analysis is not None
            return len(got.conversation.turns)

        results = run_together(read, read, lambda: service.delete_conversation(SYSTEM, "n-1"), read)
        no_unexpected(results, NotFound)
        assert not isinstance(results[2], BaseException)
        with pytest.raises(NotFound):
            service.get_conversation(SYSTEM, "n-1")
        with service.db.session() as session:
            for table in (TurnRow, FindingRow, CommitmentRow):
                assert not session.scalars(
                    select(table).where(table.conversation_id == "n-1")
                ).all()
            assert session.get(AnalysisRow, "n-1") is None


def test_reanalyze_while_importing_and_deleting(service: Service) -> None:
    ids = [c["id"] for c in CONVERSATIONS]
    for _ in range(ROUNDS):
        service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
        results = run_together(
            lambda: service.reanalyze(SYSTEM),
            lambda: service.import_bytes(SYSTEM, jsonl(B), name="b.jsonl"),
            lambda: service.delete_conversation(SYSTEM, "x-1"),
        )
        no_unexpected(results)
        check_whole(service, [i for i in ids if i != "x-1"], {"alpha": 0, "beta": 2})
        with service.db.session() as session:
            present = session.get(ConversationRow, "x-1") is not None
        if present:  # the import stored it again after the delete: whole, of the import
            check_whole(service, ["x-1"], {"beta": 2})
        else:
            with service.db.session() as session:
                assert session.get(AnalysisRow, "x-1") is None
                for table in (TurnRow, FindingRow, CommitmentRow):
                    assert not session.scalars(
                        select(table).where(table.conversation_id == "x-1")
                    ).all()


# -- commitments -----------------------------------------------------------------------------


def test_two_updates_of_one_commitment(service: Service) -> None:
    service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
    with service.db.session() as session:
        cid = session.scalars(select(CommitmentRow.id).order_by(CommitmentRow.id)).first()
    assert cid is not None
    for k in range(ROUNDS):
        results = run_together(
            lambda k=k: service.update_commitment(SYSTEM, cid, status="done", owner=f"x{k}"),
            lambda k=k: service.update_commitment(SYSTEM, cid, status="open", owner=f"y{k}"),
        )
        no_unexpected(results)
        got = service.get_commitment(SYSTEM, cid)
        assert (got.status, got.owner) in {
            ("done", f"x{k}"),
            ("open", f"y{k}"),
            ("overdue", f"y{k}"),
        }
        with service.db.session() as session:
            row = session.get(CommitmentRow, cid)
            assert row is not None
            assert (row.status == "done") == (row.closed_at is not None)


# -- users and keys ------------------------------------------------------------------------------


def test_two_removals_of_two_admins_keep_one(service: Service) -> None:
    service.add_user(SYSTEM, "root", "admin")
    for k in range(ROUNDS):
        service.add_user(SYSTEM, f"a{k}", "admin")
        results = run_together(
            lambda k=k: service.delete_user(SYSTEM, "root" if k == 0 else f"a{k - 1}"),
            lambda k=k: service.delete_user(SYSTEM, f"a{k}"),
        )
        no_unexpected(results, Conflict)
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        with service.db.session() as session:
            admins = session.scalars(select(UserRow.name).where(UserRow.role == "admin")).all()
        assert len(admins) == 1
        if admins[0] != f"a{k}":  # keep the naming of the next round
            service.add_user(SYSTEM, f"a{k}", "admin")
            service.delete_user(SYSTEM, admins[0])


def test_two_adds_of_one_playbook_name_store_one(service: Service) -> None:
    from service_fixtures import TEAM_PLAYBOOK

    for k in range(ROUNDS):
        text = TEAM_PLAYBOOK.replace("name: north_basics", f"name: race_{k}")
        results = run_together(
            lambda text=text: service.create_playbook(SYSTEM, text),
            lambda text=text: service.create_playbook(SYSTEM, text),
        )
        no_unexpected(results, Conflict)  # was an IntegrityError for the second
        assert sum(isinstance(r, Conflict) for r in results) == 1, results
        with service.db.session() as session:
            stored = session.scalars(
                select(PlaybookRow.name).where(PlaybookRow.name == f"race_{k}")
            )
            assert len(stored.all()) == 1


def test_user_removed_while_their_request_runs(service: Service) -> None:
    service.add_user(SYSTEM, "root", "admin")
    service.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
    for k in range(ROUNDS):
        _, key = service.add_user(SYSTEM, f"lead{k}", "lead", team="north")

        def request(key: str = key) -> int:
            who = service.authenticate(key)
            return len(service.list_conversations(who).items)

        results = run_together(request, lambda k=k: service.delete_user(SYSTEM, f"lead{k}"))
        no_unexpected(results, ServiceError)
        with pytest.raises(ServiceError):
            service.authenticate(key)


def test_write_failing_half_way_loses_only_that_batch(
    db_url: str, tmp_path: Path, engine: AnalysisEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """docs/service.md: each batch is one transaction; a failure loses the batch in flight."""
    svc = Service.open(make_settings(db_url, tmp_path, import_batch_size=2), engine=engine)
    try:
        svc.import_bytes(SYSTEM, jsonl(A), name="a.jsonl")
        real = repository.save_commitments
        calls: list[str] = []

        def failing(session: Any, cid: str, *args: Any, **kwargs: Any) -> None:
            calls.append(cid)
            if len(calls) == 4:  # the second conversation of the second batch
                raise RuntimeError("disk on fire")
            real(session, cid, *args, **kwargs)

        monkeypatch.setattr(repository, "save_commitments", failing)
        with pytest.raises(RuntimeError):
            svc.import_bytes(SYSTEM, jsonl(B), name="b.jsonl")
        monkeypatch.setattr(repository, "save_commitments", real)
        first, second = calls[:2], calls[2:]
        check_whole(svc, first, {"beta": 2})  # committed
        check_whole(svc, second, {"alpha": 0})  # rolled back whole: as it was
    finally:
        svc.close()
