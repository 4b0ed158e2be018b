"""Users and their API keys (admins manage them; the CLI acts as admin locally)."""

from __future__ import annotations

from sqlalchemy import bindparam, func, select

from heard.errors import InputError, NotFound
from heard.service.auth import (
    Principal,
    Role,
    generate_key,
    hash_key,
    key_matches,
    key_prefix,
    new_salt,
)
from heard.service.base import ServiceBase, now
from heard.service.errors import Conflict, Unauthorized
from heard.service.records import UserRecord
from heard.storage.models import UserRow

MAX_NAME = 255

#: The columns `authenticate` needs, by key prefix (a unique column); built once, since
#: constructing a statement costs more than running it.
_KEY_LOOKUP = select(
    UserRow.id,
    UserRow.name,
    UserRow.role,
    UserRow.team,
    UserRow.agent_id,
    UserRow.key_salt,
    UserRow.key_hash,
).where(UserRow.key_prefix == bindparam("prefix"))


def _record(row: UserRow) -> UserRecord:
    return UserRecord(
        id=row.id,
        name=row.name,
        role=Role(row.role),
        team=row.team,
        agent_id=row.agent_id,
        key_prefix=row.key_prefix,
        created_at=row.created_at,
    )


class UsersMixin(ServiceBase):
    def authenticate(self, key: str | None) -> Principal:
        """The user an API key belongs to; Unauthorized (E402) for none or a wrong one.

        Every request comes through here, so it is one indexed read of the users table
        with a statement built once (`_KEY_LOOKUP`), not an ORM query: building the query
        and loading an entity cost several times the read itself. The row is read on every
        call, not cached, so a removed user's key stops working at once, even when another
        process (``heard users remove``) removed it. Keys are random 256-bit tokens checked
        with one salted SHA-256 (`heard.service.auth`), so there is no slow hash to cache.
        """
        if not key:
            raise Unauthorized(
                "an API key is required",
                hint="send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'; "
                "'heard users add' creates one",
            )
        with self.db.engine.connect() as connection:
            row = connection.execute(_KEY_LOOKUP, {"prefix": key_prefix(key)}).first()
        if row is None or not key_matches(key, row.key_salt, row.key_hash):
            raise Unauthorized("the API key is not valid", hint="ask an admin for a new one")
        return Principal(
            name=row.name,
            role=Role(row.role),
            team=row.team,
            agent_id=row.agent_id,
            user_id=row.id,
        )

    def add_user(
        self,
        actor: Principal,
        name: str,
        role: Role | str,
        *,
        team: str | None = None,
        agent_id: str | None = None,
    ) -> tuple[UserRecord, str]:
        """Create a user; returns it and its API key (shown this once, stored hashed)."""
        actor.require(Role.admin)
        try:
            role = Role(role)
        except ValueError:
            raise InputError(f"unknown role '{role}'; roles are agent, lead, admin") from None
        name = name.strip()
        if not name or len(name) > MAX_NAME:
            raise InputError(f"a user name must be 1-{MAX_NAME} characters")
        team = (team or "").strip() or None
        agent_id = (agent_id or "").strip() or None
        if role is Role.lead and team is None:
            raise InputError("a lead needs a team (--team): leads see their team's conversations")
        if role is Role.agent and agent_id is None:
            raise InputError(
                "an agent needs an agent id (--agent-id): agents see the conversations "
                "whose agent turns carry it"
            )
        key = generate_key()
        salt = new_salt()
        with self.db.session(write=True) as session:
            if session.scalars(select(UserRow.id).where(UserRow.name == name)).first():
                raise Conflict(f"a user named '{name}' exists")
            row = UserRow(
                name=name,
                role=role.value,
                team=team,
                agent_id=agent_id,
                key_prefix=key_prefix(key),
                key_salt=salt,
                key_hash=hash_key(key, salt),
                created_at=now(),
            )
            session.add(row)
            session.flush()
            return _record(row), key

    def list_users(self, actor: Principal) -> list[UserRecord]:
        actor.require(Role.admin)
        with self.db.session() as session:
            return [_record(r) for r in session.scalars(select(UserRow).order_by(UserRow.id))]

    def delete_user(self, actor: Principal, id_or_name: int | str) -> None:
        """Remove a user; their key stops working at once."""
        actor.require(Role.admin)
        with self.db.session(write=True) as session:
            if isinstance(id_or_name, int):
                row = session.get(UserRow, id_or_name)
            else:
                row = session.scalars(select(UserRow).where(UserRow.name == id_or_name)).first()
            if row is None:
                raise NotFound(f"no user {id_or_name!r}")
            if row.role == Role.admin.value:
                admins = session.scalar(
                    select(func.count()).select_from(UserRow).where(UserRow.role == row.role)
                )
                if admins == 1:
                    raise Conflict(
                        f"'{row.name}' is the last admin; nobody could manage users after",
                        hint="add another admin first",
                    )
            session.delete(row)

    def has_admin(self) -> bool:
        """Whether auth is configured: at least one admin key exists."""
        with self.db.session() as session:
            count = session.scalar(
                select(func.count()).select_from(UserRow).where(UserRow.role == Role.admin.value)
            )
            return bool(count)
