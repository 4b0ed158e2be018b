"""Who is asking: roles, principals and API keys.

Keys are 256-bit random tokens. Only a salted SHA-256 of each is stored, with a short
prefix to find the row: a slow password hash (scrypt) protects guessable secrets, and
these are not guessable, so it would only add latency to every request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from enum import StrEnum

from heard.errors import Forbidden

KEY_START = "heard_"
PREFIX_CHARS = len(KEY_START) + 8


class Role(StrEnum):
    """agent < lead < admin: each role may do what the roles below it may."""

    agent = "agent"
    lead = "lead"
    admin = "admin"

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.agent: 0, Role.lead: 1, Role.admin: 2}


@dataclass(frozen=True, slots=True)
class Principal:
    """The user a request or command acts for."""

    name: str
    role: Role
    team: str | None = None
    agent_id: str | None = None
    user_id: int | None = None

    @classmethod
    def system(cls) -> Principal:
        """The local operator (CLI commands run with full rights on their own database)."""
        return cls(name="local", role=Role.admin)

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def at_least(self, role: Role) -> bool:
        return self.role.rank >= role.rank

    def require(self, role: Role) -> None:
        if not self.at_least(role):
            raise Forbidden(
                f"this needs the {role.value} role; '{self.name}' is {self.role.value}",
                hint="ask an admin to run 'heard users add NAME --role "
                f"{role.value}' for a key with that role",
            )


def generate_key() -> str:
    return KEY_START + secrets.token_urlsafe(32)


def key_prefix(key: str) -> str:
    """The part of a key that is stored in clear and shown in listings."""
    return key[:PREFIX_CHARS]


def new_salt() -> str:
    return secrets.token_hex(16)


def hash_key(key: str, salt: str) -> str:
    return hashlib.sha256(bytes.fromhex(salt) + key.encode("utf-8")).hexdigest()


def key_matches(key: str, salt: str, expected: str) -> bool:
    return hmac.compare_digest(hash_key(key, salt), expected)
