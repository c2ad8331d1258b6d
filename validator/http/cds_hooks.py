"""CDS Hooks 2.0 services (order-select, order-sign) built on the validator.

GET  /cds-services                      discovery
POST /cds-services/{id}                 cards for context.draftOrders
POST /cds-services/{id}/feedback        accepted / overridden feedback
GET  /cds-services/feedback-summary     feedback counted per rule and outcome (?since=&until=), for the pharmacy team

Issued cards, feedback and used token ids live in the shared store (validator.store), so every worker
gives the same answers, before and after a restart.

Patient context comes from `prefetch`; prefetch keys the client did not satisfy are fetched from
`fhirServer` only when that server is on MEDVAL_CDS_FHIR_SERVERS. With MEDVAL_CDS_CLIENTS set, every
call needs a valid JWT bearer token (see cds_security.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import httpx
import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from .. import Report, check
from ..context.from_bundle import CONTEXT_TYPES
from ..context.from_server import fetch_patient_resources, is_fhir_id  # FHIR id datatype: checked before it goes into a URL
from ..profile import ProfileSet, default_profiles
from ..store import Store
from .audit_trail import CHECKED, FAILED, REFUSED
from .audit_trail import write as write_audit
from .cds_cards import CardBuilder, ContextGap, DraftOrder, attach_facts
from .cds_records import call_audit, feedback_items, issued_cards, summary_window
from .cds_security import JwtVerifier, StoreReplayGuard
from .cds_settings import CdsSettings, normalise_base_url
from .cpu import run_cpu
from .metrics import CARD_FEEDBACK, CONTEXT_FAILURES
from .observability import where
from .settings import HttpSettings

log = logging.getLogger("medval.cds")

SERVICES: dict[str, dict[str, str]] = {
    "medval-order-select": {
        "hook": "order-select",
        "title": "medval medication order check (order-select)",
        "description": (
            "Checks the medication orders just selected (context.selections) against medval's drug knowledge profiles: "
            "route, product form, dose and daily maximum, and the patient's age, kidney function, allergies, conditions and "
            "other medications. The other draft orders are used as context only."
        ),
    },
    "medval-order-sign": {
        "hook": "order-sign",
        "title": "medval medication order check (order-sign)",
        "description": (
            "Checks every draft medication order about to be signed against medval's drug knowledge profiles: route, "
            "product form, dose and daily maximum, and the patient's age, kidney function, allergies, conditions and other "
            "medications. Suggests the corrected order where the fix is unambiguous."
        ),
    },
}

# prefetch key -> the resource type it brings
PREFETCH_TYPES = {
    "patient": "Patient",
    "conditions": "Condition",
    "allergies": "AllergyIntolerance",
    "medicationRequests": "MedicationRequest",
    "medicationStatements": "MedicationStatement",
    "observations": "Observation",
}
_MAX_FEEDBACK_BYTES = 64_000  # a feedback post is a few hundred bytes per card
_MAX_FEEDBACK_ITEMS = 100
_MAX_TEXT = 256  # card uuid, reason code and system, timestamp


def prefetch_templates(observation_codes: list[str]) -> dict[str, str]:
    """The prefetch the services ask for: the same searches the FHIR server fetch makes (context.from_server)."""
    p = "{{context.patientId}}"
    templates = {
        "patient": f"Patient/{p}",
        "conditions": f"Condition?patient={p}&clinical-status=active,recurrence,relapse",
        "allergies": f"AllergyIntolerance?patient={p}",
        # completed and stopped orders are the history the titration checks compare against
        "medicationRequests": f"MedicationRequest?patient={p}&status=active,on-hold,completed,stopped",
        "medicationStatements": f"MedicationStatement?patient={p}&status=active,intended,completed",
    }
    if observation_codes:
        codes = ",".join(f"http://loinc.org|{c}" for c in observation_codes)
        templates["observations"] = f"Observation?patient={p}&code={codes}&_sort=-date&_count=50"
    return templates


def _profile_observation_codes(profiles: ProfileSet) -> list[str]:
    return [c for p in profiles.profiles for c in p.context.observation_codes]


class BadRequest(Exception):
    status = 400
    code = "invalid-request"


class SlowBody(BadRequest):
    status = 408
    code = "request-timeout"


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _unauthorized() -> JSONResponse:
    return JSONResponse({"error": "unauthorized"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})


class TooLarge(BadRequest):
    pass


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise BadRequest(message)


def _validate_feedback(body: Any) -> list[dict[str, Any]]:
    _require(isinstance(body, dict), "The body must be a JSON object with a feedback array.")
    items = body.get("feedback")
    _require(isinstance(items, list) and len(items) > 0, "feedback must be a non-empty array.")
    _require(len(items) <= _MAX_FEEDBACK_ITEMS, f"feedback may hold at most {_MAX_FEEDBACK_ITEMS} items.")
    for i, item in enumerate(items):
        where = f"feedback[{i}]"
        _require(isinstance(item, dict), f"{where} must be an object.")
        for key in ("card", "outcomeTimestamp"):
            _require(not isinstance(item.get(key), str) or len(item[key]) <= _MAX_TEXT, f"{where}.{key} is too long.")
        _require(isinstance(item.get("card"), str) and item["card"] != "", f"{where}.card (the card uuid) is required.")
        _require(item.get("outcome") in ("accepted", "overridden"), f"{where}.outcome must be 'accepted' or 'overridden'.")
        _require(isinstance(item.get("outcomeTimestamp"), str) and item["outcomeTimestamp"] != "", f"{where}.outcomeTimestamp is required.")
        accepted = item.get("acceptedSuggestions")
        if item["outcome"] == "accepted":
            _require(isinstance(accepted, list) and len(accepted) > 0, f"{where}.acceptedSuggestions is required for accepted outcomes.")
        if accepted is not None:
            _require(isinstance(accepted, list), f"{where}.acceptedSuggestions must be an array.")
            for j, suggestion in enumerate(accepted):
                _require(
                    isinstance(suggestion, dict) and isinstance(suggestion.get("id"), str),
                    f"{where}.acceptedSuggestions[{j}].id (the suggestion uuid) is required.",
                )
        reason = item.get("overrideReason")
        if reason is not None:
            _require(isinstance(reason, dict), f"{where}.overrideReason must be an object.")
            coding = reason.get("reason")
            if coding is not None:
                _require(
                    isinstance(coding, dict) and isinstance(coding.get("code"), str) and isinstance(coding.get("system"), str),
                    f"{where}.overrideReason.reason must be a Coding with code and system.",
                )
                _require(len(coding["code"]) <= _MAX_TEXT and len(coding["system"]) <= _MAX_TEXT, f"{where}.overrideReason is too long.")
            if "userComment" in reason:
                _require(isinstance(reason["userComment"], str), f"{where}.overrideReason.userComment must be a string.")
    return items


def _parse_json(raw: bytes) -> Any:
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError:
        raise BadRequest("The body is not valid JSON.") from None


def _flatten(value: Any) -> list[dict[str, Any]]:
    """A prefetch value: one resource, or a searchset Bundle of them (search outcomes dropped)."""
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        out = []
        for entry in value.get("entry") or []:
            usable = isinstance(entry, dict) and isinstance(entry.get("resource"), dict)
            if usable and (entry.get("search") or {}).get("mode") != "outcome":
                out.append(entry["resource"])
        return out
    return [value] if isinstance(value.get("resourceType"), str) else []


class CdsService:
    def __init__(
        self,
        settings: CdsSettings,
        profiles: ProfileSet,
        http: HttpSettings,
        http_client: httpx.AsyncClient | None = None,
        store: Store | None = None,
    ) -> None:
        self.settings = settings
        self.profiles = profiles
        self.store = store or Store.in_memory()  # create_app passes the shared store; a bare router gets a private one
        self.verifier = JwtVerifier(settings, http_client, StoreReplayGuard(self.store, settings.jwt_leeway_s))
        self.http_client = http_client
        self.budget_s = http.request_budget_s  # as for $validate
        self.body_timeout_s = http.body_timeout_s
        # every LOINC code the loaded profiles' rules read (kidney function, pregnancy, breastfeeding, alcohol ...)
        self.observation_codes = list(dict.fromkeys([*settings.extra_observation_loinc, *_profile_observation_codes(profiles)]))
        self.templates = prefetch_templates(self.observation_codes)

    # --- security ---
    def audience(self, request: Request) -> str:
        """The configured public URL plus the service path; never the Host header (CdsSettings requires public_url with clients)."""
        path = request.url.path
        suffix = path[path.index("/cds-services") :] if "/cds-services" in path else path
        return (self.settings.public_url or "").rstrip("/") + suffix

    async def refused(self, request: Request) -> JSONResponse | None:
        claims, reason = await self.verifier.verify(request.headers.get("authorization"), self.audience(request))
        if reason is None:
            if claims is not None:  # who called, for the audit trail
                request.state.caller = " ".join(f"{k}={claims[k]}" for k in ("iss", "sub", "client_id") if isinstance(claims.get(k), str))
            return None
        log.warning(
            "security-refusal", extra={"fields": {"reason": reason, "status": 401, "endpoint": "cds-hooks", "method": request.method}}
        )
        return _unauthorized()

    async def body(self, request: Request, limit: int | None = None) -> Any:
        limit = limit or self.settings.max_body_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise TooLarge(f"The body is larger than {limit} bytes.")
        raw = bytearray()
        try:
            async with asyncio.timeout(self.body_timeout_s):  # a trickled body never holds the worker for long
                async for chunk in request.stream():
                    raw += chunk
                    if len(raw) > limit:
                        raise TooLarge(f"The body is larger than {limit} bytes.")
        except TimeoutError:
            raise SlowBody(f"The body did not arrive within {self.body_timeout_s:g} s (MEDVAL_BODY_TIMEOUT_S).") from None
        if not raw.strip():
            raise BadRequest("The body is empty.")
        return _parse_json(bytes(raw))

    # --- discovery ---
    def discovery(self) -> dict[str, Any]:
        return {"services": [{**meta, "id": sid, "prefetch": self.templates} for sid, meta in SERVICES.items()]}

    # --- a hook call ---
    def _read_request(self, service_id: str, body: Any) -> dict[str, Any]:
        hook = SERVICES[service_id]["hook"]
        _require(isinstance(body, dict), "The body must be a JSON object (a CDS Hooks request).")
        _require(isinstance(body.get("hook"), str) and body["hook"] != "", "hook is required.")
        _require(body["hook"] == hook, f"This service answers the {hook} hook, not {body['hook']!r}.")
        _require(isinstance(body.get("hookInstance"), str) and body["hookInstance"] != "", "hookInstance is required.")
        context = body.get("context")
        _require(isinstance(context, dict), "context is required and must be an object.")
        _require(isinstance(context.get("userId"), str) and context["userId"] != "", "context.userId is required.")
        _require(isinstance(context.get("patientId"), str) and context["patientId"] != "", "context.patientId is required.")
        _require(is_fhir_id(context["patientId"]), "context.patientId is not a valid FHIR id.")
        draft = context.get("draftOrders")
        _require(isinstance(draft, dict) and draft.get("resourceType") == "Bundle", "context.draftOrders must be a FHIR Bundle.")
        _require(isinstance(draft.get("entry", []), list), "context.draftOrders.entry must be an array.")
        if hook == "order-select":
            selections = context.get("selections")
            _require(
                isinstance(selections, list) and all(isinstance(s, str) for s in selections),
                "context.selections is required for order-select: an array of ids such as 'MedicationRequest/123'.",
            )
        prefetch = body.get("prefetch")
        _require(prefetch is None or isinstance(prefetch, dict), "prefetch must be an object.")
        server = body.get("fhirServer")
        _require(server is None or isinstance(server, str), "fhirServer must be a URL.")
        authorization = body.get("fhirAuthorization")
        if authorization is not None:
            _require(isinstance(authorization, dict), "fhirAuthorization must be an object.")
            _require(server is not None, "fhirServer is required when fhirAuthorization is given.")
            _require(
                isinstance(authorization.get("access_token"), str) and authorization["access_token"] != "",
                "fhirAuthorization.access_token is required.",
            )
            _require(str(authorization.get("token_type", "")).lower() == "bearer", "fhirAuthorization.token_type must be Bearer.")
        return body

    async def _patient_context(self, body: dict[str, Any]) -> tuple[list[dict[str, Any]], ContextGap]:
        prefetch = body.get("prefetch") or {}
        resources: list[dict[str, Any]] = []
        missing: list[str] = []
        for key, kind in PREFETCH_TYPES.items():
            if key not in prefetch:
                missing.append(key)
            else:  # null: the client has no data for this template
                resources += [r for r in _flatten(prefetch[key]) if r.get("resourceType") in (kind, "Medication")]
        gap = ContextGap()
        if not missing:
            return resources, gap
        server = body.get("fhirServer")
        missing_text = ", ".join(missing)
        if server is None:
            if prefetch:  # some prefetch, not all: the checks that need the rest are blind
                gap.reasons.append(f"The request carried no prefetch data for {missing_text} and named no FHIR server to fetch them from.")
            return resources, gap
        base = normalise_base_url(server)
        if base is None or base not in self.settings.fhir_servers:
            log.warning("security-refusal", extra={"fields": {"reason": "fhir-server-not-allowed", "fhir_server": str(server)[:200]}})
            CONTEXT_FAILURES.labels("fhir-server-not-allowed").inc()
            gap.reasons.append(
                f"The FHIR server {server} is not on medval's allow-list (MEDVAL_CDS_FHIR_SERVERS), so nothing was fetched "
                f"from it; missing: {missing_text}."
            )
            return resources, gap
        token = (body.get("fhirAuthorization") or {}).get("access_token")
        kwargs: dict[str, Any] = {
            "token": token,
            "timeout_s": self.settings.fetch_timeout_s,
            "client": self.http_client,
            "max_bytes": self.settings.fetch_max_bytes,
        }
        started = time.monotonic()
        result = await fetch_patient_resources(base, body["context"]["patientId"], **kwargs)
        wanted = {PREFETCH_TYPES[k] for k in missing}
        resources += [r for r in result.resources if r.get("resourceType") in wanted]
        failures = [f for f in result.failures if f.split(" ", 1)[0] in wanted]
        for failure in failures:
            CONTEXT_FAILURES.labels(failure.split(" ", 1)[0]).inc()  # a resource type from `wanted`: a bounded label
        elapsed_ms = 1000 * (time.monotonic() - started)
        counts = {"resources": len(result.resources), "failures": len(failures), "duration_ms": round(elapsed_ms)}
        log.info("cds-fetch", extra={"fields": {"fhir_server": base, **counts}})
        gap.reasons += [f"From {base}: {f}." for f in failures]
        return resources, gap

    def _bundle(self, body: dict[str, Any], context_resources: list[dict[str, Any]]) -> tuple[dict[str, Any], list[DraftOrder]]:
        entries: list[dict[str, Any]] = []
        orders: list[DraftOrder] = []
        taken: set[str] = set()
        for i, entry in enumerate(body["context"]["draftOrders"].get("entry") or []):
            resource = entry.get("resource") if isinstance(entry, dict) else None
            if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
                entries.append({})  # keep the indices of context.draftOrders
                continue
            kind, rid = resource["resourceType"], resource.get("id")
            new_entry: dict[str, Any] = {"resource": resource}
            if isinstance(entry.get("fullUrl"), str):
                new_entry["fullUrl"] = entry["fullUrl"]
            # no made-up fullUrl otherwise: FHIR requires it absolute, and the Bundle index finds Type/id anyway
            if isinstance(rid, str):
                taken.add(f"{kind}/{rid}")
            entries.append(new_entry)
            if kind == "MedicationRequest":
                orders.append(DraftOrder(i, f"{kind}/{rid}" if isinstance(rid, str) else f"draftOrders.entry[{i}]", resource))
        for resource in context_resources:
            kind, rid = resource.get("resourceType"), resource.get("id")
            if kind not in CONTEXT_TYPES:
                continue
            key = f"{kind}/{rid}" if isinstance(rid, str) else None
            if key is not None and key in taken:
                continue
            if key is not None:
                taken.add(key)
            entries.append({"resource": resource})
        return {"resourceType": "Bundle", "type": "collection", "entry": entries}, orders

    async def cards(self, service_id: str, body: dict[str, Any], request: Request | None = None) -> dict[str, Any]:
        hook = SERVICES[service_id]["hook"]
        context_resources, gap = await self._patient_context(body)
        bundle, orders = self._bundle(body, context_resources)
        if hook == "order-select":
            selections = set(body["context"]["selections"])
            judged = {o.entry for o in orders if o.reference in selections}
        else:
            judged = {o.entry for o in orders}
        if not judged:
            await self.audit(request, service_id, body, None, [], CHECKED)
            return {"cards": []}
        report = await run_cpu(check, bundle, profiles=self.profiles, context_provider=None, expected_type="Bundle", budget_s=self.budget_s)
        if report.rejected is not None:
            raise BadRequest(f"context.draftOrders could not be read: {report.rejected.message}")
        attach_facts(report, orders)
        builder = CardBuilder(service_id, hook, self.profiles, self.settings.source_url)
        cards = await run_cpu(builder.build, report, orders, judged, gap)  # CPU work: off the event loop
        await self.record_cards(service_id, body, cards, builder)
        await self.audit(request, service_id, body, report, [o.reference for o in orders if o.entry in judged], CHECKED)
        fields = {"service": service_id, "hook_instance": str(body.get("hookInstance"))[:100], "orders": len(orders), "judged": len(judged)}
        log.info("cds-call", extra={"fields": {**fields, "cards": [f"{c['indicator']}:{c['source']['topic']['code']}" for c in cards]}})
        return {"cards": cards}

    async def record_cards(self, service_id: str, body: dict[str, Any], cards: list[dict[str, Any]], builder: CardBuilder) -> None:
        # stored before the cards are answered: feedback on them may reach any worker a moment later
        try:
            await run_in_threadpool(self.store.record_cards, issued_cards(service_id, body, cards, builder))
        except SQLAlchemyError as exc:  # the cards matter more than their analytics: answered, and the gap logged
            log.error("cds-cards-not-recorded service=%s: %s", service_id, type(exc).__name__)

    async def audit(
        self, request: Request | None, service_id: str, body: Any, report: Report | None, orders: list[str], outcome: str
    ) -> None:
        record = call_audit(request.state if request else None, service_id, body, report, orders, outcome)
        if request is not None:
            request.state.rule_codes = sorted({rule for rule, _ in record.findings})  # for the request log line
        await write_audit(self.store, record)


def _failure_card(service: CdsService) -> dict[str, Any]:
    labels = ", ".join(p.label for p in service.profiles.profiles)
    return {
        "summary": "medval could not check these orders because of an internal error; check them by hand.",
        "indicator": "warning",
        "detail": "The medication order check failed unexpectedly, so **no check ran**. The error has been logged for the medval team.",
        "source": {"label": labels},
    }


def build_cds_router(
    settings: CdsSettings | None = None,
    profiles: ProfileSet | None = None,
    http_client: httpx.AsyncClient | None = None,
    http: HttpSettings | None = None,
    store: Store | None = None,
) -> APIRouter:
    """The CDS Hooks endpoints; include in the FastAPI app with app.include_router(build_cds_router(...)).
    `http`: the service's request budget and body timeout, shared with $validate."""
    settings = settings or CdsSettings()
    service = CdsService(settings, profiles or default_profiles(), http or HttpSettings(), http_client, store)
    if service.verifier.enabled:
        log.info("CDS Hooks: JWT required from %d trusted client(s): %s", len(settings.clients), ", ".join(c.iss for c in settings.clients))
    else:
        log.warning("CDS Hooks endpoints run OPEN: MEDVAL_CDS_CLIENTS configures no trusted client, so no JWT is required.")
    if settings.fhir_servers:
        log.info("CDS Hooks: patient data may be fetched from: %s", ", ".join(settings.fhir_servers))
    else:
        log.info("CDS Hooks: MEDVAL_CDS_FHIR_SERVERS is empty; patient data comes from prefetch only.")

    # Every refusal the CDS endpoints can give, documented so clients (and schemathesis) know them.
    errors: dict[int | str, dict[str, Any]] = {
        400: {"description": "Not a valid CDS Hooks request (JSON error body)."},
        413: {"description": "The body is larger than allowed (JSON error body)."},
        401: {"description": "Missing or invalid JWT bearer token, when trusted clients are configured."},
        404: {"description": "No CDS service with that id."},
    }
    router = APIRouter(tags=["CDS Hooks"], responses={401: errors[401]})
    router.cds_service = service  # type: ignore[attr-defined]  # for tests and the app's introspection

    @router.get("/cds-services")
    async def discovery(request: Request) -> JSONResponse:
        if (denied := await service.refused(request)) is not None:
            return denied
        return JSONResponse(service.discovery())

    @router.get("/cds-services/feedback-summary", responses={400: errors[400]})
    async def feedback_summary(request: Request, since: str | None = None, until: str | None = None) -> JSONResponse:
        if (denied := await service.refused(request)) is not None:
            return denied
        try:
            window = summary_window(since, "since"), summary_window(until, "until")
        except ValueError as exc:
            return _error(400, "invalid-request", str(exc))
        return JSONResponse(await run_in_threadpool(service.store.feedback_summary, *window))

    @router.post("/cds-services/{service_id}", responses={400: errors[400], 404: errors[404], 413: errors[413]})
    async def call(service_id: str, request: Request) -> JSONResponse:
        if (denied := await service.refused(request)) is not None:
            return denied
        if service_id not in SERVICES:
            return _error(404, "unknown-service", f"No CDS service {service_id!r}; see GET /cds-services.")
        body: Any = None
        try:
            body = await service.body(request)
            body = service._read_request(service_id, body)
            return JSONResponse(await service.cards(service_id, body, request))
        except TooLarge as exc:
            return _error(413, "too-large", str(exc))
        except BadRequest as exc:
            await service.audit(request, service_id, body, None, [], REFUSED)
            return _error(exc.status, exc.code, str(exc))
        except Exception as exc:  # never a 5xx: a check that could not run says so
            # type and code location only: an exception's message can quote the order
            log.error(
                "cds-call-failed", extra={"fields": {"service": service_id, "error_type": type(exc).__name__, "error_at": where(exc)}}
            )
            await service.audit(request, service_id, body, None, [], FAILED)
            return JSONResponse({"cards": [_failure_card(service)]})

    @router.post("/cds-services/{service_id}/feedback", responses={400: errors[400], 404: errors[404], 413: errors[413]})
    async def feedback(service_id: str, request: Request) -> JSONResponse:
        if (denied := await service.refused(request)) is not None:
            return denied
        if service_id not in SERVICES:
            return _error(404, "unknown-service", f"No CDS service {service_id!r}; see GET /cds-services.")
        try:
            items = feedback_items(_validate_feedback(await service.body(request, _MAX_FEEDBACK_BYTES)))
        except TooLarge as exc:
            return _error(413, "too-large", str(exc))
        except BadRequest as exc:
            return _error(exc.status, exc.code, str(exc))
        rules = await run_in_threadpool(service.store.record_feedback, service_id, items)
        unknown = [i for i, rule in enumerate(rules) if rule is None]
        for item, rule in zip(items, rules, strict=True):
            if rule is not None:
                CARD_FEEDBACK.labels(rule, item.outcome).inc()
            fields = {"service": service_id, "rule": rule or "unknown-card", "outcome": item.outcome, "card": item.card[:100]}
            log.info("cds-feedback", extra={"fields": {**fields, "reason": item.reason_code or "-", "stored": rule is not None}})
        stored = len(items) - len(unknown)
        answer: dict[str, Any] = {"received": len(items), "stored": stored}
        if unknown:  # feedback on a card medval never issued cannot be attributed to a rule: said, not stored
            answer["unknownCards"] = [f"feedback[{i}]" for i in unknown]
        return JSONResponse(answer)

    return router
