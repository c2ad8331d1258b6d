"""Which patient context a $validate call may have fetched for it: none, or what its token allows (see auth.py)."""

from __future__ import annotations

import logging
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from validator.context import ContextUnavailable, PatientContext
from validator.context.from_server import ServerContextProvider, patient_id_of

from .auth import BearerAuth, Caller, Refusal
from .problems import RequestProblem

log = logging.getLogger("medval.http")

ANONYMOUS_REASON = "the caller is anonymous, so medval fetched no patient data (MEDVAL_AUTH_ALLOW_ANONYMOUS)"
NOT_GRANTED_REASON = "the caller's token does not grant access to this patient's record, so medval fetched none of it"


class AnonymousProvider:
    """For a token-less caller the operator lets in: nothing is fetched, and the answer says so."""

    def __call__(self, order: dict[str, Any]) -> ContextUnavailable:
        return ContextUnavailable(ANONYMOUS_REASON, configured=True)


class ScopedProvider:
    """The server provider, asked only for a patient the caller's scopes cover."""

    def __init__(self, provider: ServerContextProvider, caller: Caller) -> None:
        self.provider = provider
        self.caller = caller

    def __call__(self, order: dict[str, Any]) -> PatientContext | ContextUnavailable:
        patient_id = patient_id_of(order, self.provider.base_url)
        if patient_id is not None and not self.caller.may_read(patient_id):
            log.warning("security-refusal", extra={"fields": {"reason": "patient-not-in-scope", "iss": self.caller.iss}})
            return ContextUnavailable(NOT_GRANTED_REASON, configured=True)
        return self.provider(order)


def refuse(status: int, code: str) -> RequestProblem:
    log.warning("security-refusal", extra={"fields": {"reason": code, "status": status}})
    if status == 403:
        return RequestProblem(403, "forbidden", "The token does not carry the scope this endpoint needs.", about_input=False)
    header = 'Bearer error="invalid_token"' if code not in ("no-token", "not-bearer") else "Bearer"
    text = "This endpoint needs a valid bearer token (it may read patient records)."
    return RequestProblem(401, "login", text, about_input=False, headers={"WWW-Authenticate": header})


async def context_provider_for(request: Request, provider: ServerContextProvider | None) -> Any:
    """The context provider this call may use, given the one the settings configure; raises RequestProblem 401/403
    before any body is read or anything fetched.

    None means: no FHIR server is configured, nothing can be fetched, no token is needed.
    """
    if provider is None:
        return None
    auth: BearerAuth = request.app.state.auth
    authorization = request.headers.get("authorization")
    if not authorization and auth.settings.allow_anonymous:
        return AnonymousProvider()
    try:
        caller = await run_in_threadpool(auth.authenticate, authorization)  # may fetch a JWK Set: off the event loop
    except Refusal as refusal:
        raise refuse(refusal.status, refusal.code) from None
    if not caller.may_read_any_record:
        raise refuse(403, "insufficient-scope")
    request.state.caller = f"iss={caller.iss} sub={caller.subject}"  # who asked, for the audit trail (never the token)
    return ScopedProvider(provider, caller)


async def require_scope(request: Request, scope: str) -> Caller:
    """The caller, when its token carries `scope` (e.g. MEDVAL_AUTH_ADMIN_SCOPE for the audit endpoint); else 401/403."""
    auth: BearerAuth = request.app.state.auth
    try:
        caller = await run_in_threadpool(auth.authenticate, request.headers.get("authorization"))
    except Refusal as refusal:
        raise refuse(refusal.status, refusal.code) from None
    if scope not in caller.scopes:
        raise refuse(403, "insufficient-scope")
    return caller
