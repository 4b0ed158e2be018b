"""What every part of the service shares: settings, database, engine, runtime settings."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from heard.errors import NotFound, PlaybookError
from heard.scoring.playbook import BUILTIN_PLAYBOOKS, builtin, builtin_name
from heard.service.access import visible
from heard.service.auth import Principal
from heard.service.engine import AnalysisEngine, Keyed
from heard.settings import RedactionMode, Settings
from heard.storage import Database
from heard.storage.models import ConversationRow, PlaybookRow, SettingRow

#: Settings an admin may change at run time (stored in the database, over the environment).
RUNTIME_KEYS = ("redaction", "playbooks")


def now() -> datetime:
    return datetime.now(UTC)


class ServiceBase:
    settings: Settings
    db: Database
    engine: AnalysisEngine

    # -- runtime settings -------------------------------------------------------------
    def _overrides(self, session: Session) -> dict[str, Any]:
        return {
            r.key: r.value for r in session.scalars(select(SettingRow)) if r.key in RUNTIME_KEYS
        }

    def _redaction(self, session: Session) -> RedactionMode:
        value = self._overrides(session).get("redaction", self.settings.redaction)
        return "keep" if value == "keep" else "redact"

    def _playbook_names(self, session: Session) -> list[str]:
        value = self._overrides(session).get("playbooks", self.settings.playbooks)
        return [str(v) for v in value] if isinstance(value, list) else []

    def _scored_playbooks(self, session: Session, team: str | None) -> list[Keyed]:
        """What a conversation of `team` is scored with: the built-in set, plus every valid
        stored playbook that is global or belongs to the team (filed under its name).
        """
        out = self.engine.builtins(self._playbook_names(session))
        rows = session.scalars(
            select(PlaybookRow).where(PlaybookRow.valid.is_(True)).order_by(PlaybookRow.name)
        )
        for row in rows:
            if row.team is None or row.team == team:
                out.append((row.name, self.engine.parse(row.name, row.yaml)))
        return out

    def _playbook_for(self, actor: Principal, spec: str) -> Keyed:
        """A playbook by name for `actor`: a built-in, or a valid stored playbook that is
        global or of the actor's team. Never a file path: requests must not read files.
        """
        if builtin_name(spec) is not None:
            pb = builtin(spec)
            return pb.key, pb
        with self.db.session() as session:
            row = session.scalars(select(PlaybookRow).where(PlaybookRow.name == spec)).first()
            if row is None or not (actor.is_admin or row.team is None or row.team == actor.team):
                raise NotFound(
                    f"no playbook '{spec}'",
                    hint=f"built-ins are {', '.join(BUILTIN_PLAYBOOKS)}; GET /playbooks lists "
                    "the stored ones",
                )
            if not row.valid:
                raise PlaybookError(
                    f"playbook '{spec}' does not validate: {row.problems[0]}", row.problems
                )
            return row.name, self.engine.parse(row.name, row.yaml)

    # -- access -----------------------------------------------------------------------
    def _conversation_row(self, session: Session, actor: Principal, id: str) -> ConversationRow:
        """The stored conversation `id` if `actor` may see it; NotFound otherwise (the same
        error whether it does not exist or is someone else's, so nothing leaks).
        """
        row = session.scalars(
            select(ConversationRow).where(ConversationRow.id == id, visible(actor))
        ).first()
        if row is None:
            raise NotFound(
                f"no conversation '{id}'", hint="GET /conversations lists the ones you can see"
            )
        return row
