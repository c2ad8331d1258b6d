"""Store: every piece of state the service keeps, in one database shared by all workers and kept across restarts.

Issued CDS cards and the feedback on them, used JWT ids (replay protection), and the audit trail.
The HTTP edge builds one Store in create_app and passes it where it is needed; rules and engine never see it.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, delete, func, insert, literal, select
from sqlalchemy.exc import IntegrityError

from . import tables as t
from .migrate import ensure_current, make_engine
from .settings import StoreSettings

_HASH_KEY_NAME = "patient-hash-key"
AUDIT_SEARCH_MAX = 1000
_TOKEN_SWEEP_EVERY = 200


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """SQLite hands timestamps back without a zone; they were written in UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class IssuedCard:
    uuid: str
    service: str
    hook_instance: str
    rule: str
    severity: str
    profile_version: str
    patient_ref: str  # hashed before it is stored
    order_ref: str
    suggestions: dict[str, str] = field(default_factory=dict)  # suggestion uuid -> label


@dataclass(frozen=True, slots=True)
class FeedbackItem:
    card: str
    outcome: str  # accepted | overridden
    outcome_at: str
    reason_code: str | None = None
    reason_system: str | None = None
    accepted_suggestions: tuple[str, ...] = ()  # suggestion uuids


@dataclass(frozen=True, slots=True)
class AuditRecord:
    request_id: str
    operation: str
    outcome: str  # AuditEvent.outcome: 0 checked, 4 input refused, 8 medval failed
    profiles: list[str]
    findings: list[tuple[str, str]]  # (rule code, severity)
    patient_ref: str | None
    order_refs: list[str]
    caller: str | None = None
    recorded_at: datetime = field(default_factory=utcnow)
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


class Store:
    def __init__(self, engine: Engine, settings: StoreSettings | None = None) -> None:
        self.engine = engine
        self.settings = settings or StoreSettings()
        self._hash_key: bytes | None = None

    @classmethod
    def open(cls, settings: StoreSettings | None = None, migrate: bool = True) -> Store:
        settings = settings or StoreSettings()
        store = cls(make_engine(settings.url()), settings)
        if migrate:
            ensure_current(store.engine)
        return store

    @classmethod
    def in_memory(cls) -> Store:
        """A private SQLite database in memory: for tests and embedding, never for the service (create_app opens the real one)."""
        return cls.open(StoreSettings(database_url="sqlite://"))

    def close(self) -> None:
        self.engine.dispose()

    # --- patient references on cards ---
    def patient_hash(self, reference: str) -> str:
        return hmac.new(self._key(), reference.encode(), hashlib.sha256).hexdigest()

    def _key(self) -> bytes:
        if self._hash_key is None:
            if self.settings.patient_hash_secret:
                self._hash_key = self.settings.patient_hash_secret.encode()
            else:
                self._hash_key = self._shared_value(_HASH_KEY_NAME, secrets.token_hex(32)).encode()
        return self._hash_key

    def _shared_value(self, name: str, candidate: str) -> str:
        """The stored value of `name`, storing `candidate` first if there is none: every worker ends with the same one."""
        try:
            with self.engine.begin() as db:
                db.execute(insert(t.store_values).values(name=name, value=candidate))
        except IntegrityError:
            pass  # another worker stored its own first; use that one
        with self.engine.begin() as db:
            return db.execute(select(t.store_values.c.value).where(t.store_values.c.name == name)).scalar_one()

    # --- cards and feedback ---
    def record_cards(self, cards: list[IssuedCard]) -> None:
        if not cards:
            return
        now = utcnow()
        rows = [
            {
                "uuid": c.uuid,
                "service": c.service,
                "hook_instance": c.hook_instance[:128],
                "rule": c.rule,
                "severity": c.severity,
                "profile_version": c.profile_version[:128],
                "issued_at": now,
                "patient_hash": self.patient_hash(c.patient_ref),
                "order_ref": c.order_ref[:256],
                "suggestions": orjson.dumps(c.suggestions).decode(),
            }
            for c in cards
        ]
        with self.engine.begin() as db:
            db.execute(insert(t.cards), rows)

    def record_feedback(self, service: str, items: list[FeedbackItem]) -> list[str | None]:
        """Store each item against its card, all or none; per item, the card's rule, or None for a card never issued."""
        now = utcnow()
        rules: list[str | None] = []
        with self.engine.begin() as db:
            for item in items:
                # one statement: the row exists only if the card does (and the foreign key says so too)
                source = select(
                    t.cards.c.uuid,
                    literal(service),
                    literal(item.outcome),
                    literal(item.reason_code),
                    literal(item.reason_system),
                    literal(orjson.dumps(list(item.accepted_suggestions)).decode() if item.accepted_suggestions else None),
                    literal(item.outcome_at[:64]),
                    literal(now, t.feedback.c.received_at.type),
                ).where(t.cards.c.uuid == item.card)
                columns = ["card_uuid", "service", "outcome", "reason_code", "reason_system", "accepted_suggestions", "outcome_at"]
                db.execute(insert(t.feedback).from_select([*columns, "received_at"], source))
                rule = db.execute(select(t.cards.c.rule).where(t.cards.c.uuid == item.card)).scalar_one_or_none()
                rules.append(rule)
        return rules

    def feedback_summary(self, since: datetime | None = None, until: datetime | None = None) -> dict[str, Any]:
        """Per rule and per service: accepted and overridden counts, override reasons, accepted suggestions, and a daily series."""
        f, c = t.feedback, t.cards
        window = []
        if since is not None:
            window.append(f.c.received_at >= since)
        if until is not None:
            window.append(f.c.received_at < until)
        day = func.date(f.c.received_at)
        counts = (
            select(c.c.rule, f.c.service, f.c.outcome, f.c.reason_code, day, func.count())
            .select_from(f.join(c, f.c.card_uuid == c.c.uuid))
            .where(*window)
            .group_by(c.c.rule, f.c.service, f.c.outcome, f.c.reason_code, day)
        )
        accepted = (
            select(c.c.rule, f.c.accepted_suggestions, c.c.suggestions)
            .select_from(f.join(c, f.c.card_uuid == c.c.uuid))
            .where(f.c.accepted_suggestions.is_not(None), *window)
        )
        by_rule: dict[str, dict[str, Any]] = {}
        by_service: dict[str, dict[str, int]] = {}
        by_day: dict[tuple[str, str], dict[str, int]] = {}
        with self.engine.begin() as db:
            count_rows = db.execute(counts).all()
            accepted_rows = db.execute(accepted).all()
        for rule, service, outcome, reason, day_value, n in count_rows:
            entry = by_rule.setdefault(rule, {"accepted": 0, "overridden": 0})
            entry[outcome] += n
            by_service.setdefault(service, {"accepted": 0, "overridden": 0})[outcome] += n
            by_day.setdefault((str(day_value)[:10], rule), {"accepted": 0, "overridden": 0})[outcome] += n
            if outcome == "overridden":
                reasons = entry.setdefault("overrideReasons", {})
                reasons[reason or "none"] = reasons.get(reason or "none", 0) + n
        labels: Counter[tuple[str, str]] = Counter()
        for rule, accepted_ids, suggestions in accepted_rows:
            names = orjson.loads(suggestions)
            for suggestion_id in orjson.loads(accepted_ids):
                labels[(rule, names.get(suggestion_id, "unknown-suggestion"))] += 1
        for (rule, label), n in sorted(labels.items()):
            by_rule[rule].setdefault("acceptedSuggestions", {})[label] = n
        return {
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "scope": "every medval worker and restart (the shared store)",
            "totals": {o: sum(r[o] for r in by_rule.values()) for o in ("accepted", "overridden")},
            "byRule": dict(sorted(by_rule.items())),
            "byService": dict(sorted(by_service.items())),
            "byDay": [{"date": d, "rule": r, **v} for (d, r), v in sorted(by_day.items())],
        }

    # --- replay protection ---
    def remember_token(self, issuer: str, jti: str, expires_at: datetime) -> bool:
        """True the first time (issuer, jti) is seen by any worker; False ever after, until it has expired and been purged."""
        try:
            with self.engine.begin() as db:
                db.execute(insert(t.used_tokens).values(issuer=issuer[:256], jti=jti[:256], expires_at=expires_at))
                if secrets.randbelow(_TOKEN_SWEEP_EVERY) == 0:  # now and then, so the table stays small between purges
                    db.execute(delete(t.used_tokens).where(t.used_tokens.c.expires_at < utcnow()))
        except IntegrityError:
            return False
        return True

    # --- audit trail ---
    def audit(self, record: AuditRecord) -> None:
        with self.engine.begin() as db:
            db.execute(
                insert(t.audit).values(
                    id=record.id,
                    recorded_at=record.recorded_at,
                    request_id=record.request_id[:128],
                    operation=record.operation[:64],
                    caller=record.caller[:512] if record.caller else None,
                    profiles=", ".join(record.profiles),
                    outcome=record.outcome,
                    findings=orjson.dumps(record.findings).decode(),
                    patient_ref=record.patient_ref[:256] if record.patient_ref else None,
                    order_refs=orjson.dumps(record.order_refs).decode(),
                )
            )

    def audit_search(
        self,
        since: datetime | None = None,
        until: datetime | None = None,
        patient: str | None = None,
        outcome: str | None = None,
        limit: int = 100,
    ) -> list[AuditRecord]:
        a = t.audit
        query = select(a).order_by(a.c.recorded_at.desc()).limit(min(max(limit, 0), AUDIT_SEARCH_MAX))
        if since is not None:
            query = query.where(a.c.recorded_at >= since)
        if until is not None:
            query = query.where(a.c.recorded_at <= until)
        if patient is not None:
            query = query.where(a.c.patient_ref == patient)
        if outcome is not None:
            query = query.where(a.c.outcome == outcome)
        with self.engine.begin() as db:
            rows = db.execute(query).mappings().all()
        return [
            AuditRecord(
                id=r["id"],
                recorded_at=as_utc(r["recorded_at"]),
                request_id=r["request_id"],
                operation=r["operation"],
                caller=r["caller"],
                profiles=[p for p in r["profiles"].split(", ") if p],
                outcome=r["outcome"],
                findings=[tuple(x) for x in orjson.loads(r["findings"])],
                patient_ref=r["patient_ref"],
                order_refs=orjson.loads(r["order_refs"]),
            )
            for r in rows
        ]

    # --- retention ---
    def purge(self, now: datetime | None = None) -> dict[str, int]:
        """Delete audit records past the retention period and token ids past their expiry; the counts deleted."""
        now = now or utcnow()
        cutoff = now - timedelta(days=self.settings.audit_retention_days)
        with self.engine.begin() as db:
            audits = db.execute(delete(t.audit).where(t.audit.c.recorded_at < cutoff)).rowcount
            tokens = db.execute(delete(t.used_tokens).where(t.used_tokens.c.expires_at < now)).rowcount
        return {"audit_events": audits, "used_tokens": tokens}
