"""Which stored conversations a principal may see, as SQL conditions.

- admin: every conversation.
- lead: conversations of their team: filed under the team on import, or with an agent
  turn by an agent id that belongs to a user of the team.
- agent: conversations with an agent turn carrying their own agent id.

Everything that reads conversations, findings, scorecards or commitments goes through
`visible`, so a list, a search and a direct read cannot disagree.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true

from heard.service.auth import Principal, Role
from heard.storage.models import ConversationRow, TurnRow, UserRow


def visible(actor: Principal) -> ColumnElement[bool]:
    """A WHERE condition on ConversationRow: the conversations `actor` may see."""
    if actor.role is Role.admin:
        return true()
    if actor.role is Role.lead:
        if not actor.team:
            return false()
        team_agents = select(UserRow.agent_id).where(
            UserRow.team == actor.team, UserRow.agent_id.is_not(None)
        )
        by_agent = exists().where(
            TurnRow.conversation_id == ConversationRow.id,
            TurnRow.speaker == "agent",
            TurnRow.agent_id.in_(team_agents),
        )
        return or_(ConversationRow.team == actor.team, by_agent)
    if not actor.agent_id:
        return false()
    return exists().where(
        and_(
            TurnRow.conversation_id == ConversationRow.id,
            TurnRow.speaker == "agent",
            TurnRow.agent_id == actor.agent_id,
        )
    )


def sees_originals(actor: Principal) -> bool:
    """Only admins see the unredacted text kept in 'keep' mode."""
    return actor.role is Role.admin
