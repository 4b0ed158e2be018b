"""Playbooks stored by teams: YAML text kept with its validation status.

A playbook is validated before it is stored (PlaybookError E201 lists every numbered
problem). Stored playbooks are validated again by `reanalyze` and at start-up, since an
upgrade of the catalog can invalidate one; invalid ones are kept (with their problems)
but not scored. Leads manage their team's playbooks; admins manage every one, including
global ones (no team) that score every conversation.
"""

from __future__ import annotations

import yaml
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from heard import yamltext
from heard.errors import Forbidden, NotFound, PlaybookError
from heard.scoring.playbook import BUILTIN_PLAYBOOKS, builtin, builtin_name, builtin_text
from heard.service.auth import Principal, Role
from heard.service.base import ServiceBase, now
from heard.service.errors import Conflict
from heard.service.records import StoredPlaybook
from heard.storage.models import PlaybookRow


def _record(row: PlaybookRow) -> StoredPlaybook:
    framework = None
    try:
        data = yamltext.load(row.yaml)
        if isinstance(data, dict) and isinstance(data.get("framework"), str):
            framework = data["framework"]
    except yaml.YAMLError:
        pass
    return StoredPlaybook(
        name=row.name,
        team=row.team,
        builtin=False,
        valid=row.valid,
        problems=list(row.problems),
        yaml=row.yaml,
        framework=framework,
        created_at=row.created_at,
        updated_at=row.updated_at,
        created_by=row.created_by,
    )


def _builtin_record(name: str) -> StoredPlaybook:
    pb = builtin(name)
    return StoredPlaybook(
        name=name,
        team=None,
        builtin=True,
        valid=True,
        problems=[],
        yaml=builtin_text(name),
        framework=pb.framework,
        created_at=None,
        updated_at=None,
        created_by=None,
    )


def check_playbook(text: str, source: str) -> tuple[str, list[str]]:
    """The playbook's name and its numbered problems (empty when it validates)."""
    from heard.scoring.validate import validate

    problems = [str(p) for p in validate(text, source)]
    name = ""
    try:
        data = yamltext.load(text)
        if isinstance(data, dict) and isinstance(data.get("name"), str):
            name = data["name"]
    except yaml.YAMLError:
        pass
    return name, problems


def _rejected(source: str, problems: list[str]) -> PlaybookError:
    n = len(problems)
    return PlaybookError(
        f"{source} has {n} problem{'s' if n != 1 else ''}: {problems[0]}", problems=problems
    )


class PlaybooksMixin(ServiceBase):
    def list_playbooks(self, actor: Principal, *, builtins: bool = True) -> list[StoredPlaybook]:
        """Built-in playbooks, then the stored ones `actor` may use."""
        out = [_builtin_record(n) for n in BUILTIN_PLAYBOOKS] if builtins else []
        with self.db.session() as session:
            stmt = select(PlaybookRow).order_by(PlaybookRow.name)
            if not actor.is_admin:
                stmt = stmt.where(or_(PlaybookRow.team.is_(None), PlaybookRow.team == actor.team))
            out.extend(_record(r) for r in session.scalars(stmt))
        return out

    def get_playbook(self, actor: Principal, name: str) -> StoredPlaybook:
        if builtin_name(name) is not None:
            return _builtin_record(builtin_name(name) or name)
        with self.db.session() as session:
            return _record(self._stored_playbook(session, actor, name))

    def _stored_playbook(self, session: Session, actor: Principal, name: str) -> PlaybookRow:
        row = session.scalars(select(PlaybookRow).where(PlaybookRow.name == name)).first()
        if row is None or not (actor.is_admin or row.team is None or row.team == actor.team):
            raise NotFound(f"no playbook '{name}'", hint="GET /playbooks lists them")
        return row

    def _may_manage(self, actor: Principal, team: str | None) -> None:
        actor.require(Role.lead)
        if actor.is_admin:
            return
        if team is None or team != actor.team:
            raise Forbidden(
                "leads manage their own team's playbooks only",
                hint="an admin manages global playbooks (no team)",
            )

    def validate_playbook(self, text: str, source: str = "<playbook>") -> list[str]:
        return check_playbook(text, source)[1]

    def create_playbook(
        self, actor: Principal, text: str, *, team: str | None = None
    ) -> StoredPlaybook:
        """Store a new playbook (named by its YAML `name`); leads' go to their team."""
        if actor.role is Role.lead and team is None:
            team = actor.team
        self._may_manage(actor, team)
        name, problems = check_playbook(text, "playbook")
        if problems:
            raise _rejected(f"playbook '{name or '?'}'", problems)
        if builtin_name(name) is not None:
            raise Conflict(
                f"'{name}' is the name of a built-in playbook",
                hint="give yours another name; it can 'extends' the built-in",
            )
        stamp = now()
        with self.db.session(write=True) as session:  # the name check and the insert, together
            if session.scalars(select(PlaybookRow.id).where(PlaybookRow.name == name)).first():
                raise Conflict(
                    f"a playbook named '{name}' exists", hint=f"PUT /playbooks/{name} updates it"
                )
            row = PlaybookRow(
                name=name,
                team=team,
                yaml=text,
                valid=True,
                problems=[],
                created_at=stamp,
                updated_at=stamp,
                created_by=actor.name,
            )
            session.add(row)
            session.flush()
            return _record(row)

    def update_playbook(self, actor: Principal, name: str, text: str) -> StoredPlaybook:
        if builtin_name(name) is not None:
            raise Forbidden(f"built-in playbook '{name}' cannot be changed",
                            hint="store your own that 'extends' it")  # fmt: skip
        new_name, problems = check_playbook(text, f"playbook '{name}'")
        if problems:
            raise _rejected(f"playbook '{name}'", problems)
        if new_name != name:
            raise PlaybookError(
                f"the YAML is named '{new_name}', not '{name}'",
                problems=[f"P002: name: must stay '{name}' (create a new playbook to rename)"],
            )
        with self.db.session() as session:
            row = self._stored_playbook(session, actor, name)
            self._may_manage(actor, row.team)
            row.yaml = text
            row.valid = True
            row.problems = []
            row.updated_at = now()
            session.flush()
            return _record(row)

    def delete_playbook(self, actor: Principal, name: str) -> None:
        if builtin_name(name) is not None:
            raise Forbidden(f"built-in playbook '{name}' cannot be deleted")
        with self.db.session() as session:
            row = self._stored_playbook(session, actor, name)
            self._may_manage(actor, row.team)
            session.delete(row)
