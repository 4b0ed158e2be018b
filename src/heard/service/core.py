"""The Service: the one layer the CLI, the REST API and the web UI call.

Every method takes the Principal it acts for and checks what that principal may do, so
no interface can forget a check. The CLI acts as ``Principal.system()`` (the local
operator owns the database file); the API acts as the user whose key came with the
request.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from heard import __version__
from heard.catalog import Entry, catalog
from heard.errors import Forbidden, InputError
from heard.model import Analysis, Conversation
from heard.scoring.playbook import DEFAULT_AUTHORITY_LEVELS
from heard.service.auth import Principal, Role
from heard.service.base import RUNTIME_KEYS, now
from heard.service.commitments import CommitmentsMixin
from heard.service.conversations import ConversationsMixin
from heard.service.engine import AnalysisEngine, Keyed
from heard.service.importing import ImportMixin
from heard.service.playbooks import PlaybooksMixin
from heard.service.records import EffectiveSettings
from heard.service.users import UsersMixin
from heard.settings import Settings
from heard.storage import Database
from heard.storage.models import SettingRow

if TYPE_CHECKING:
    from heard.coach import CoachResponse


class Service(ImportMixin, ConversationsMixin, CommitmentsMixin, PlaybooksMixin, UsersMixin):
    """heard's service layer over one database.

    >>> service = Service.open(Settings(database_url="sqlite:///heard.db"))
    >>> report = service.import_file(Principal.system(), "chats.jsonl")
    """

    def __init__(
        self,
        settings: Settings,
        database: Database | None = None,
        *,
        engine: AnalysisEngine | None = None,
    ) -> None:
        self.settings = settings
        self.db = database or Database(settings.database_url)
        #: shared by every request; pass one to share compiled detectors between services
        self.engine = engine or AnalysisEngine(fast=settings.fast)

    @classmethod
    def open(
        cls,
        settings: Settings | None = None,
        *,
        migrate: bool = True,
        engine: AnalysisEngine | None = None,
    ) -> Service:
        """Open the configured database, creating or upgrading its schema first."""
        service = cls(settings or Settings(), engine=engine)
        if migrate:
            service.db.migrate()
            service.revalidate_playbooks()  # an upgraded catalog can invalidate one
        return service

    def close(self) -> None:
        self.db.dispose()

    # -- stateless ----------------------------------------------------------------------
    def analyze(
        self, actor: Principal, conversation: Conversation, *, playbooks: list[str] | None = None
    ) -> Analysis:
        """Analyse without storing anything (the text is not redacted: it is not kept)."""
        chosen: list[Keyed] = (
            [self._playbook_for(actor, p) for p in playbooks]
            if playbooks is not None
            else self.engine.builtins(self.settings.playbooks)
        )
        return self.engine.analyze(conversation, chosen)

    def coach(
        self,
        actor: Principal,
        conversation: Conversation,
        *,
        draft: str | None = None,
        playbook: str | None = None,
        authority: str = "agent",
    ) -> CoachResponse:
        """The live coach's cues and suggested next reply (`heard.coach.coach`).

        An agent may only ask for what an agent may give: the lowest authority level.
        The coach reads the service's own pipeline, so detectors compile once.
        """
        from heard.coach import coach

        pb = self._playbook_for(actor, playbook)[1] if playbook else None
        levels = pb.authority_levels if pb is not None else DEFAULT_AUTHORITY_LEVELS
        lowest = levels[0] if levels else "agent"
        if actor.role is Role.agent and authority != lowest:
            raise Forbidden(
                f"agents coach at the '{lowest}' authority level, not '{authority}'",
                hint="a lead or admin key may ask for a higher level",
            )
        if not conversation.turns:
            raise InputError("the coach needs at least one turn of the conversation")
        with self.engine.exclusive():
            return coach(
                conversation,
                draft=draft,
                playbook=pb,
                authority=authority,
                pipeline=self.engine.pipeline,
                llm=self.settings.llm_url,
            )

    @staticmethod
    def catalog() -> list[Entry]:
        return list(catalog().values())

    def health(self) -> dict[str, Any]:
        ok = self.db.ping()
        return {
            "status": "ok" if ok else "degraded",
            "version": __version__,
            "database": self.db.backend if ok else "unreachable",
        }

    # -- settings -----------------------------------------------------------------------
    def get_settings(self, actor: Principal) -> EffectiveSettings:
        actor.require(Role.admin)
        with self.db.session() as session:
            changed = sorted(self._overrides(session))
            redaction = self._redaction(session)
            playbooks = self._playbook_names(session)
        return EffectiveSettings(
            redaction=redaction,
            playbooks=playbooks,
            max_upload_bytes=self.settings.max_upload_bytes,
            import_batch_size=self.settings.import_batch_size,
            fast=self.settings.fast,
            llm_url=self.settings.llm_url,
            database=self.settings.safe_database_url(),
            database_backend=self.db.backend,
            schema_revision=self.db.revision(),
            changed=changed,
        )

    def update_settings(self, actor: Principal, changes: dict[str, Any]) -> EffectiveSettings:
        """Change run-time settings (redaction, playbooks); None restores the default."""
        actor.require(Role.admin)
        unknown = sorted(set(changes) - set(RUNTIME_KEYS))
        if unknown:
            raise InputError(
                f"setting '{unknown[0]}' cannot be changed at run time; "
                f"these can: {', '.join(RUNTIME_KEYS)}"
            )
        if changes.get("redaction") not in (None, "redact", "keep"):
            raise InputError("redaction is 'redact' or 'keep'")
        for name in changes.get("playbooks") or []:
            self.engine.builtins([name])  # PlaybookError for an unknown built-in
        with self.db.session() as session:
            for key, value in changes.items():
                row = session.get(SettingRow, key)
                if value is None:
                    if row is not None:
                        session.delete(row)
                    continue
                if row is None:
                    session.add(SettingRow(key=key, value=value, updated_at=now()))
                else:
                    row.value = value
                    row.updated_at = now()
        return self.get_settings(actor)

    def count_conversations(self) -> int:
        from sqlalchemy import func

        from heard.storage.models import ConversationRow

        with self.db.session() as session:
            return session.scalar(select(func.count()).select_from(ConversationRow)) or 0
