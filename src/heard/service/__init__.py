"""The service layer: storage, access rules and analysis behind every interface.

The CLI, the REST API (`heard.api`) and the web UI are thin layers over `Service`::

    from heard.service import Service, Principal
    from heard.settings import Settings

    service = Service.open(Settings(database_url="sqlite:///team.db"))
    report = service.import_file(Principal.system(), "chats.jsonl")
    page = service.list_conversations(Principal.system())
"""

from heard.service.auth import Principal, Role
from heard.service.core import Service
from heard.service.engine import AnalysisEngine
from heard.service.errors import (
    BindRefused,
    Conflict,
    ImportRejected,
    PayloadTooLarge,
    Problem,
    Unauthorized,
)
from heard.service.records import (
    CommitmentQuery,
    ConversationQuery,
    ConversationSummary,
    EffectiveSettings,
    ImportReport,
    Page,
    StoredCommitment,
    StoredConversation,
    StoredPlaybook,
    UserRecord,
)

__all__ = [
    "AnalysisEngine",
    "BindRefused",
    "CommitmentQuery",
    "Conflict",
    "ConversationQuery",
    "ConversationSummary",
    "EffectiveSettings",
    "ImportRejected",
    "ImportReport",
    "Page",
    "PayloadTooLarge",
    "Principal",
    "Problem",
    "Role",
    "Service",
    "StoredCommitment",
    "StoredConversation",
    "StoredPlaybook",
    "Unauthorized",
    "UserRecord",
]
