"""Importing files into the database, and re-analysing what is stored.

An import reads conversations with `heard.importers`, masks personal data
(`heard.privacy`), analyses the masked text and writes each batch of conversations in
one transaction: a crash loses at most the batch in flight, never half a conversation.
A conversation whose id is already stored is replaced (turns, analysis, findings,
scores and found commitments) in the same transaction; commitments someone marked done
stay done.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from sqlalchemy import select

from heard.errors import InputError, RowError
from heard.model import Analysis, Conversation
from heard.privacy import RedactedConversation, redact_conversation
from heard.service.access import visible
from heard.service.auth import Principal, Role
from heard.service.base import ServiceBase, now
from heard.service.engine import Keyed
from heard.service.errors import ImportRejected, Problem
from heard.service.records import ImportedProblem, ImportReport
from heard.storage import repository
from heard.storage.models import ConversationRow, PlaybookRow

log = logging.getLogger("heard.service")

MAX_ID = 255
Progress = Callable[[int], None]


class ImportResultLike(Protocol):
    """What `heard.importers` returns: conversations (lazily) and the problems met."""

    problems: list[RowError]

    def conversations(self) -> Iterator[Conversation]: ...


Opener = Callable[[bool], ImportResultLike]


@dataclass(slots=True)
class _Prepared:
    conversation: Conversation
    redacted: RedactedConversation
    team: str | None


def open_file(path: Path, *, format: str | None) -> Opener:
    """An opener for `path` (read again for a strict pre-check). The file's name is used
    to detect its format and to name conversations that carry no id.
    """

    def opener(strict: bool) -> ImportResultLike:
        from heard import importers

        result: ImportResultLike = importers.read(path, format=format, strict=strict)
        return result

    return opener


def open_bytes(data: bytes, *, name: str, format: str | None) -> Opener:
    def opener(strict: bool) -> ImportResultLike:
        from heard import importers

        result: ImportResultLike = importers.read_bytes(
            data, name=name, format=format, strict=strict
        )
        return result

    return opener


def _check(conversation: Conversation) -> list[Problem]:
    """What the importers do not check but storage needs."""
    out: list[Problem] = []
    where = f"conversation '{conversation.id[:60]}'"
    if not conversation.id.strip() or len(conversation.id) > MAX_ID:
        out.append(Problem(f"{where}: id must be 1-{MAX_ID} characters", field="id"))
    if len(conversation.channel) > MAX_ID:
        out.append(Problem(f"{where}: channel longer than {MAX_ID} characters", field="channel"))
    if not conversation.turns:
        out.append(Problem(f"{where} has no turns", field="turns"))
    for i, turn in enumerate(conversation.turns):
        if turn.agent_id is not None and len(turn.agent_id) > MAX_ID:
            out.append(Problem(f"{where}: agent_id too long", field=f"turns[{i}].agent_id"))
        if not turn.text.strip():
            out.append(Problem(f"{where}: empty text", field=f"turns[{i}].text"))
    return out


class ImportMixin(ServiceBase):
    def import_file(
        self,
        actor: Principal,
        path: str | Path,
        *,
        name: str | None = None,
        format: str | None = None,
        strict: bool = False,
        on_progress: Progress | None = None,
    ) -> ImportReport:
        """Import a file (JSONL, CSV, TWCS, transcript ...; detected unless `format`)."""
        p = Path(path)
        shown = name or p.name
        return self._import(actor, open_file(p, format=format), shown, strict, on_progress)

    def import_bytes(
        self,
        actor: Principal,
        data: bytes,
        *,
        name: str = "upload",
        format: str | None = None,
        strict: bool = False,
    ) -> ImportReport:
        return self._import(actor, open_bytes(data, name=name, format=format), name, strict, None)

    def import_conversations(
        self, actor: Principal, conversations: Iterable[Conversation], *, source: str = "api"
    ) -> ImportReport:
        """Store conversations already in memory (the library's way in)."""
        items = list(conversations)

        class _Given:
            def __init__(self) -> None:
                self.problems: list[RowError] = []

            def conversations(self) -> Iterator[Conversation]:
                return iter(items)

        return self._import(actor, lambda _strict: _Given(), source, True, None)

    # -- the import -------------------------------------------------------------------
    def _import(
        self,
        actor: Principal,
        opener: Opener,
        source: str,
        strict: bool,
        on_progress: Progress | None,
    ) -> ImportReport:
        actor.require(Role.lead)
        if strict:  # read everything once without writing: all or nothing
            problems: list[Problem] = []
            result = opener(False)
            for conversation in result.conversations():
                problems.extend(_check(conversation))
            problems = [Problem.from_row_error(e) for e in result.problems] + problems
            if problems:
                raise ImportRejected(
                    f"{source}: nothing imported: {len(problems)} problem"
                    f"{'s' if len(problems) != 1 else ''} (strict import)",
                    problems,
                )
        report = ImportReport(source=source)
        own: list[Problem] = []
        seen: set[str] = set()
        batch: list[_Prepared] = []
        result = opener(False)
        done = 0
        try:
            for conversation in result.conversations():
                found = _check(conversation)
                if found:
                    own.extend(found)
                    report.skipped += 1
                    continue
                if conversation.id in seen:
                    own.append(
                        Problem(
                            f"conversation '{conversation.id}' appears more than once; "
                            "the last one is kept",
                            field="id",
                        )
                    )
                seen.add(conversation.id)
                batch.append(self._prepare(actor, conversation))
                if len(batch) >= self.settings.import_batch_size:
                    done += self._write_batch(actor, batch, source, report, own)
                    batch = []
                    if on_progress is not None:
                        on_progress(done)
            if batch:
                done += self._write_batch(actor, batch, source, report, own)
                if on_progress is not None:
                    on_progress(done)
        except UnicodeDecodeError as exc:
            raise InputError(f"{source} is not UTF-8 text: {exc}") from None
        rows = [Problem.from_row_error(e) for e in result.problems]
        report.skipped += int(getattr(result, "skipped", 0) or 0)
        problems = rows + own
        report.problems = [
            ImportedProblem(code=p.code, message=p.message, line=p.line, field=p.field)
            for p in problems
        ]
        if not report.imported and problems:
            raise ImportRejected(
                f"{source}: no conversation could be imported ({len(problems)} problem"
                f"{'s' if len(problems) != 1 else ''})",
                problems,
            )
        if not report.imported:
            raise InputError(f"{source} holds no conversations")
        return report

    def _prepare(self, actor: Principal, conversation: Conversation) -> _Prepared:
        team = actor.team if actor.role is Role.lead else None
        if team is None:
            meta_team = conversation.meta.get("team")
            team = meta_team if isinstance(meta_team, str) and meta_team else None
        return _Prepared(conversation, redact_conversation(conversation), team)

    def _write_batch(
        self,
        actor: Principal,
        batch: list[_Prepared],
        source: str,
        report: ImportReport,
        problems: list[Problem],
    ) -> int:
        """Analyse a batch (outside the transaction), then write it in one transaction."""
        last = {item.conversation.id: k for k, item in enumerate(batch)}
        batch = [item for k, item in enumerate(batch) if last[item.conversation.id] == k]
        with self.db.session() as session:
            mode = self._redaction(session)
            by_team: dict[str | None, list[Keyed]] = {}
            for item in batch:
                if item.team not in by_team:
                    by_team[item.team] = self._scored_playbooks(session, item.team)
        ids = [item.conversation.id for item in batch]
        analyses: list[Analysis | None] = []
        results = self.engine.analyze_many(
            [(item.redacted.conversation, by_team[item.team]) for item in batch]
        )
        for item, result in zip(batch, results, strict=True):
            if isinstance(result, Analysis):
                analyses.append(result)
            else:  # one bad conversation must not sink the import
                exc = result
                log.error(
                    "analysing conversation %r failed",
                    item.conversation.id,
                    exc_info=(type(exc), exc, exc.__traceback__),
                )
                problems.append(
                    Problem(
                        f"conversation '{item.conversation.id}' could not be analysed "
                        f"({type(exc).__name__}: {exc}); it was not stored",
                        code=getattr(exc, "code", "E102"),
                        field="id",
                    )
                )
                report.skipped += 1
                analyses.append(None)
        written = 0
        stamp = now()
        with self.db.session(write=True) as session:
            # read again under the write lock: another import may have stored (or a
            # delete removed) some of these ids since the read above
            existing: dict[str, str | None] = {
                cid: team
                for cid, team in session.execute(
                    select(ConversationRow.id, ConversationRow.team).where(
                        ConversationRow.id.in_(ids)
                    )
                )
            }
            mine = set(
                session.scalars(
                    select(ConversationRow.id).where(ConversationRow.id.in_(ids), visible(actor))
                )
            )
            for item, analysis in zip(batch, analyses, strict=True):
                if analysis is None:
                    continue
                cid = item.conversation.id
                if cid in existing and cid not in mine:
                    problems.append(
                        Problem(
                            f"conversation id '{cid}' is already used by a conversation "
                            "you cannot change; give this one another id",
                            field="id",
                        )
                    )
                    report.skipped += 1
                    continue
                team = item.team
                if team is None and cid in existing:
                    team = existing[cid]
                keep = mode == "keep"
                repository.save_conversation(
                    session,
                    item.redacted.conversation,
                    originals=item.redacted.originals if keep else None,
                    meta_original=item.redacted.meta_original if keep else None,
                    team=team,
                    source=source,
                    redaction=mode,
                    now=stamp,
                )
                repository.save_analysis(session, analysis, item.redacted.redactions, now=stamp)
                repository.save_commitments(session, cid, analysis.commitments, now=stamp)
                if cid not in report.imported:
                    report.imported.append(cid)
                if cid in existing and cid not in report.replaced:
                    report.replaced.append(cid)
                written += 1
        return written

    # -- re-analysis ------------------------------------------------------------------
    def reanalyze(
        self,
        actor: Principal,
        *,
        playbooks: list[str] | None = None,
        on_progress: Progress | None = None,
    ) -> int:
        """Run the pipeline again over every stored conversation; returns how many.

        Use after upgrading heard (new detectors) or changing playbooks. ``playbooks``
        (built-in names, stored names or YAML files) replaces the usual set for this run.
        Stored playbooks are validated again first (a catalog change can break one).
        """
        actor.require(Role.admin)
        self.revalidate_playbooks()
        chosen = self._resolve_for_run(playbooks) if playbooks else None
        done = 0
        after = ""
        size = self.settings.import_batch_size
        while True:
            with self.db.session() as session:
                rows = list(
                    session.scalars(
                        select(ConversationRow)
                        .where(ConversationRow.id > after)
                        .order_by(ConversationRow.id)
                        .limit(size)
                    )
                )
                if not rows:
                    break
                items: list[tuple[Conversation, list[Keyed]]] = []
                sets: dict[str | None, list[Keyed]] = {}
                for row in rows:
                    conversation = repository.conversation_from(
                        row, repository.load_turns(session, row.id)
                    )
                    if chosen is None and row.team not in sets:
                        sets[row.team] = self._scored_playbooks(session, row.team)
                    items.append((conversation, chosen if chosen is not None else sets[row.team]))
            analyses: list[Analysis] = []
            for result in self.engine.analyze_many(items):
                if isinstance(result, Exception):
                    raise result
                analyses.append(result)
            stamp = now()
            with self.db.session(write=True) as session:
                for analysis in analyses:
                    if session.get(ConversationRow, analysis.id) is None:
                        continue  # deleted meanwhile
                    repository.save_analysis(session, analysis, None, now=stamp)
                    repository.save_commitments(
                        session, analysis.id, analysis.commitments, now=stamp
                    )
            done += len(rows)
            after = rows[-1].id
            if on_progress is not None:
                on_progress(done)
        return done

    def _resolve_for_run(self, specs: list[str]) -> list[Keyed]:
        from heard.scoring.playbook import Playbook, resolve

        out: list[Keyed] = []
        with self.db.session() as session:
            stored = {
                r.name: r for r in session.scalars(select(PlaybookRow).where(PlaybookRow.valid))
            }
        for spec in specs:
            row = stored.get(spec)
            pb: Playbook
            if row is not None:
                pb = self.engine.parse(row.name, row.yaml)
                out.append((row.name, pb))
            else:
                pb = resolve(spec)
                out.append((pb.key, pb))
        return out

    def revalidate_playbooks(self) -> int:
        """Validate every stored playbook again; returns how many are invalid now."""
        from heard.scoring.validate import validate

        bad = 0
        with self.db.session() as session:
            for row in session.scalars(select(PlaybookRow)):
                problems = [str(p) for p in validate(row.yaml, f"stored playbook {row.name}")]
                row.valid = not problems
                row.problems = problems
                bad += bool(problems)
        return bad
