"""The durable state of the HTTP service (an edge: rules and engine never import it)."""

from .migrate import HEAD_REVISION, current_revision, ensure_current, head_revision, make_engine, upgrade
from .settings import StoreSettings
from .store import AuditRecord, FeedbackItem, IssuedCard, Store

__all__ = [
    "HEAD_REVISION",
    "AuditRecord",
    "FeedbackItem",
    "IssuedCard",
    "Store",
    "StoreSettings",
    "current_revision",
    "ensure_current",
    "head_revision",
    "make_engine",
    "upgrade",
]
