"""The settings tree the HTTP service is built from (defined in validator/settings.py, shared with the CLI)."""

from __future__ import annotations

from ..settings import FIVE_MEGABYTES, HttpSettings, Settings, StoreSettings

__all__ = ["FIVE_MEGABYTES", "HttpSettings", "Settings", "StoreSettings"]
