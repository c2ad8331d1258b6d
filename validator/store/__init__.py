"""The durable state of the HTTP service (an edge: rules and engine never import it)."""

from .migrate import current_revision, head_revision, make_engine, upgrade
from .settings import StoreSettings
from .store import AuditRecord, FeedbackItem, IssuedCard, Store

__all__ = [
    "AuditRecord",
    "FeedbackItem",
    "IssuedCard",
    "Store",
    "StoreSettings",
    "current_revision",
    "head_revision",
    "make_engine",
    "upgrade",
]
