"""The store's knobs, read from the environment (MEDVAL_ prefix) in this one place."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DATA_DIR = Path(".medval-data")


class StoreSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MEDVAL_", extra="ignore")

    # Where durable state lives: a SQLite file under data_dir by default; postgresql+psycopg://user@host/db in production.
    database_url: str | None = None
    data_dir: Path = DEFAULT_DATA_DIR
    # Audit records older than this are deleted by `medval db purge` (and nothing else deletes them).
    audit_retention_days: int = Field(default=365, ge=1)
    # The key for hashing patient references on issued cards. Unset: one is generated once and kept in the database,
    # so every worker hashes alike; set it (and keep it out of database backups) to make the hashes useless without it.
    patient_hash_secret: str | None = None
    # Without authentication configured, /fhir/AuditEvent is closed; this opens it to anyone who can reach the port
    # (a development convenience: the audit trail holds patient references).
    audit_allow_anonymous: bool = False

    def url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'medval.sqlite3').as_posix()}"
