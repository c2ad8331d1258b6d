"""The tables, as SQLAlchemy Core. The migrations (migrations/versions) are what creates them; this is what the code reads."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, DateTime, ForeignKey, Index, Integer, MetaData, String, Table, Text

metadata = MetaData()

# Small named values the workers must agree on (the generated patient-hash key).
store_values = Table(
    "medval_values",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("value", Text, nullable=False),
)

cards = Table(
    "cds_cards",
    metadata,
    Column("uuid", String(64), primary_key=True),
    Column("service", String(64), nullable=False),
    Column("hook_instance", String(128), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("severity", String(16), nullable=False),  # the card's indicator: info, warning, critical
    Column("profile_version", String(128), nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False, index=True),
    Column("patient_hash", String(64), nullable=False),  # HMAC-SHA256 of the patient reference, never the id itself
    Column("order_ref", String(256), nullable=False),
    Column("suggestions", Text, nullable=False),  # JSON: suggestion uuid -> label
)

feedback = Table(
    "cds_feedback",
    metadata,
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("card_uuid", String(64), ForeignKey("cds_cards.uuid", ondelete="CASCADE"), nullable=False, index=True),
    Column("service", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),  # accepted | overridden
    Column("reason_code", String(128), nullable=True),
    Column("reason_system", String(256), nullable=True),
    Column("accepted_suggestions", Text, nullable=True),  # JSON list of suggestion labels
    Column("outcome_at", String(64), nullable=False),  # as the client sent it
    Column("received_at", DateTime(timezone=True), nullable=False, index=True),
)

used_tokens = Table(
    "used_tokens",
    metadata,
    Column("issuer", String(256), primary_key=True),
    Column("jti", String(256), primary_key=True),
    Column("expires_at", DateTime(timezone=True), nullable=False, index=True),
)

audit = Table(
    "audit_events",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("recorded_at", DateTime(timezone=True), nullable=False),
    Column("request_id", String(128), nullable=False),
    Column("operation", String(64), nullable=False),  # validate-MedicationRequest, validate-Bundle, cds-medval-order-sign ...
    Column("caller", String(512), nullable=True),  # token issuer (and subject) when the call was authenticated
    Column("profiles", Text, nullable=False),  # "label|version, ..."
    Column("outcome", String(16), nullable=False),  # the worst severity found: fatal, error, warning, information, none
    Column("findings", Text, nullable=False),  # JSON list of [rule code, severity]
    Column("patient_ref", String(256), nullable=True),
    Column("order_refs", Text, nullable=False),  # JSON list
    Index("ix_audit_events_recorded_at", "recorded_at"),
    Index("ix_audit_events_patient_ref", "patient_ref"),
)
