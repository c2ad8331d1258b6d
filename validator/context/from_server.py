"""Patient context from the hospital's FHIR server, for a lone order whose subject is a Patient reference.

    result = await fetch_patient_resources(base_url, patient_id, token=None, timeout_s=2.0)
    result.resources   # Patient, Conditions, AllergyIntolerances, MedicationRequests (+ Medications),
                       # MedicationStatements, the latest kidney-function Observations, as dicts
    result.failures    # short reasons without patient data: "Condition search: HTTP 500"

All searches run concurrently on one httpx.AsyncClient; each response is capped at `max_bytes`,
and whatever has not answered when `timeout_s` runs out is cancelled and reported as a failure.
Nothing here raises on a server fault: faults become failures, failures become a
`patient-context-unavailable` warning (see rules/context_gap.py).

Settings (environment, read by ContextSettings when an edge builds validator.settings.Settings; the library never reads it):
    MEDVAL_FHIR_BASE_URL     the server's base URL (unset: no server lookups)
    MEDVAL_FHIR_TOKEN        bearer token sent as Authorization (optional)
    MEDVAL_CONTEXT_TIMEOUT_S time budget for the whole lookup, seconds (default 2.0)
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import quote

import httpx
import orjson
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..parse import detect_version
from ..profile import ProfileSet, default_profiles
from . import ContextUnavailable, PatientContext
from .from_bundle import context_from_resources

# The FHIR id datatype, matched as a whole string (fullmatch: a `$` anchor would accept a trailing newline).
FHIR_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
# Valid by the grammar but path segments in a URL: Patient/. is the Patient search, Patient/.. the server's base.
_PATH_SEGMENTS = frozenset({".", ".."})
LOINC = "http://loinc.org"
PAGE_SIZE = 100
OBSERVATION_COUNT = 20


@dataclass
class FetchResult:
    resources: list[dict] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # "Condition search: HTTP 500": no patient data


@dataclass(frozen=True, slots=True)
class _Query:
    label: str  # "Patient read", "Condition search"
    path: str
    params: tuple[tuple[str, str], ...] = ()
    expect: str = "Bundle"


def is_fhir_id(value: object) -> bool:
    """True for a FHIR id that can go into a URL as one path segment; checked before every request."""
    return isinstance(value, str) and FHIR_ID.fullmatch(value) is not None and value not in _PATH_SEGMENTS


def _observation_codes(profiles: ProfileSet | None = None) -> tuple[str, ...]:
    """LOINC codes the loaded profiles (default: the packaged ones) read from Observations (kidney function...)."""
    try:
        return tuple(sorted({c for p in (profiles or default_profiles()).profiles for c in p.context.observation_codes}))
    except Exception:  # a profile problem is reported elsewhere; here it only narrows the search
        return ()


def _queries(patient_id: str, observation_codes: list[str]) -> list[_Query]:
    count = ("_count", str(PAGE_SIZE))
    queries = [
        _Query("Patient read", f"Patient/{quote(patient_id, safe='')}", expect="Patient"),
        _Query("Condition search", "Condition", (("patient", patient_id), ("clinical-status", "active,recurrence,relapse"), count)),
        _Query("AllergyIntolerance search", "AllergyIntolerance", (("patient", patient_id), count)),
        # completed and stopped orders are the history the titration checks compare against
        _Query(
            "MedicationRequest search",
            "MedicationRequest",
            (("patient", patient_id), ("status", "active,on-hold,completed,stopped"), ("_include", "MedicationRequest:medication"), count),
        ),
        _Query(
            "MedicationStatement search",
            "MedicationStatement",
            (("patient", patient_id), ("status", "active,intended,completed"), ("_include", "MedicationStatement:medication"), count),
        ),
    ]
    if observation_codes:
        codes = ",".join(f"{LOINC}|{c}" for c in observation_codes)
        queries.append(
            _Query(
                "Observation search",
                "Observation",
                (("patient", patient_id), ("code", codes), ("_sort", "-date"), ("_count", str(OBSERVATION_COUNT))),
            )
        )
    return queries


# where each searched resource type names its patient; Medication (brought by _include) names none
_PATIENT_ELEMENT = {
    "Condition": "subject",
    "AllergyIntolerance": "patient",
    "MedicationRequest": "subject",
    "MedicationStatement": "subject",
    "Observation": "subject",
}


def belongs_to(resource: dict[str, Any], patient_id: str, base_url: str) -> bool:
    """Whether a fetched resource is about this patient: the Patient itself, or a reference to Patient/<id> on this server."""
    kind = resource.get("resourceType")
    if kind == "Patient":
        return resource.get("id") == patient_id
    if kind == "Medication":
        return True
    element = _PATIENT_ELEMENT.get(str(kind))
    holder = resource.get(element) if element else None
    reference = holder.get("reference") if isinstance(holder, dict) else None
    if not isinstance(reference, str):
        return False
    own = f"Patient/{patient_id}"
    absolute = f"{base_url.rstrip('/')}/{own}"
    return any(reference == r or reference.startswith(r + "/_history/") for r in (own, absolute))


class _TooLarge(Exception):
    pass


async def _get(client: httpx.AsyncClient, base_url: str, query: _Query, headers: dict[str, str], timeout_s: float, max_bytes: int) -> Any:
    url = f"{base_url.rstrip('/')}/{query.path}"
    async with client.stream("GET", url, params=list(query.params), headers=headers, timeout=timeout_s) as response:
        if response.status_code != 200:
            return f"HTTP {response.status_code}"
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise _TooLarge
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > max_bytes:
                raise _TooLarge
    try:
        return orjson.loads(bytes(body))
    except orjson.JSONDecodeError:
        return "unreadable response (not JSON)"


async def _run(
    client: httpx.AsyncClient, base_url: str, query: _Query, headers: dict[str, str], timeout_s: float, max_bytes: int
) -> tuple[list[dict], str | None]:
    try:
        body = await _get(client, base_url, query, headers, timeout_s, max_bytes)
    except _TooLarge:
        return [], f"{query.label}: response larger than {max_bytes} bytes"
    except httpx.TimeoutException:
        return [], f"{query.label}: timed out"
    except httpx.HTTPError as exc:
        return [], f"{query.label}: connection failed ({type(exc).__name__})"
    except Exception as exc:  # never let one search break the whole lookup
        return [], f"{query.label}: failed ({type(exc).__name__})"
    if isinstance(body, str):
        return [], f"{query.label}: {body}"
    if not isinstance(body, dict) or body.get("resourceType") != query.expect:
        kind = body.get("resourceType") if isinstance(body, dict) else type(body).__name__
        return [], f"{query.label}: unexpected {kind} instead of a {query.expect}"
    if query.expect != "Bundle":
        return [body], None
    entries = body.get("entry")
    if entries is not None and not isinstance(entries, list):
        return [], f"{query.label}: malformed Bundle.entry"
    resources = [e["resource"] for e in entries or [] if isinstance(e, dict) and isinstance(e.get("resource"), dict)]
    resources = [r for r in resources if isinstance(r.get("resourceType"), str) and r["resourceType"] != "OperationOutcome"]
    links = body.get("link") if isinstance(body.get("link"), list) else []
    if any(isinstance(link, dict) and link.get("relation") == "next" for link in links):
        # more than one page: what was read is used, and the checks that need the rest say they did not run
        return resources, f"{query.label}: more results than one page; the rest was not read"
    return resources, None


async def fetch_patient_resources(
    base_url: str,
    patient_id: str,
    token: str | None = None,
    timeout_s: float = 2.0,
    client: httpx.AsyncClient | None = None,
    max_bytes: int = 2_000_000,
    observation_codes: tuple[str, ...] | None = None,
) -> FetchResult:
    """The patient's resources from a FHIR server, concurrently, within `timeout_s` overall; never raises on server faults.
    `observation_codes`: the LOINC codes the loaded profiles read (default: the packaged profiles')."""
    if not is_fhir_id(patient_id):
        return FetchResult([], ["Patient read: the subject is not a valid FHIR id"])
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    queries = _queries(patient_id, list(_observation_codes() if observation_codes is None else observation_codes))
    own = client is None
    client = client or httpx.AsyncClient(follow_redirects=False)
    result = FetchResult()
    try:
        tasks = {asyncio.create_task(_run(client, base_url, q, headers, timeout_s, max_bytes)): q for q in queries}
        done, pending = await asyncio.wait(tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        for task, query in tasks.items():  # in query order, so failures read the same every time
            if task in done and not task.cancelled() and task.exception() is None:
                resources, failure = task.result()
                if failure:
                    result.failures.append(failure)
                kept = [r for r in resources if belongs_to(r, patient_id, base_url)]
                result.resources += kept
                if len(kept) < len(resources):
                    # a server that ignores ?patient= (servers may), or answers a read with someone else: never used
                    dropped = len(resources) - len(kept)
                    result.failures.append(f"{query.label}: {dropped} result(s) about another patient (or none) were dropped")
            elif task in done:
                result.failures.append(f"{query.label}: failed")
            else:
                result.failures.append(f"{query.label}: no answer within {timeout_s:g} s")
    finally:
        if own:
            await client.aclose()
    return result


def fetch_patient_resources_sync(
    base_url: str,
    patient_id: str,
    token: str | None = None,
    timeout_s: float = 2.0,
    client: httpx.AsyncClient | None = None,
    max_bytes: int = 2_000_000,
    observation_codes: tuple[str, ...] | None = None,
) -> FetchResult:
    """fetch_patient_resources for synchronous callers; safe to call from inside a running event loop (uses a thread)."""

    def run() -> FetchResult:
        return asyncio.run(fetch_patient_resources(base_url, patient_id, token, timeout_s, client, max_bytes, observation_codes))

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return run()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(run).result()


class ContextSettings(BaseSettings):
    """Where patient context for lone orders comes from (MEDVAL_FHIR_BASE_URL ...), read when an edge builds Settings."""

    model_config = SettingsConfigDict(env_prefix="MEDVAL_", extra="ignore")

    fhir_base_url: str | None = None
    fhir_token: str | None = None
    context_timeout_s: float = 2.0

    def provider(self, profiles: ProfileSet | None = None) -> ServerContextProvider | None:
        """The lookup these settings configure, or None when no server is set; it asks for the Observations the
        loaded `profiles` read (default: the packaged profiles)."""
        if not self.fhir_base_url:
            return None
        return _provider(self.fhir_base_url, self.fhir_token or None, self.context_timeout_s, _observation_codes(profiles))


def patient_id_of(order: dict[str, Any], base_url: str) -> str | None:
    """The Patient id a lone order's subject points at on this server ('Patient/123' or '<base>/Patient/123'), else None."""
    subject = order.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    if not isinstance(reference, str):
        return None
    base = base_url.rstrip("/") + "/"
    if reference.startswith(("http://", "https://")):
        if not reference.startswith(base):
            return None
        reference = reference[len(base) :]
    parts = reference.split("/")
    if len(parts) >= 2 and parts[0] == "Patient" and is_fhir_id(parts[1]) and (len(parts) == 2 or parts[2] == "_history"):
        return parts[1]
    return None


class ServerContextProvider:
    """A ContextProvider (validator.engine) that looks the order's patient up on a FHIR server."""

    def __init__(  # noqa: PLR0913
        self,
        base_url: str,
        token: str | None = None,
        timeout_s: float = 2.0,
        max_bytes: int = 2_000_000,
        observation_codes: tuple[str, ...] | None = None,
    ) -> None:
        self.base_url = base_url
        self.token = token
        self.timeout_s = timeout_s
        self.max_bytes = max_bytes
        self.observation_codes = observation_codes

    def __call__(self, order: dict[str, Any]) -> PatientContext | ContextUnavailable:
        patient_id = patient_id_of(order, self.base_url)
        if patient_id is None:
            return ContextUnavailable("the order's subject is not a reference to a Patient on the configured FHIR server", configured=True)
        result = fetch_patient_resources_sync(
            self.base_url, patient_id, self.token, self.timeout_s, None, self.max_bytes, self.observation_codes
        )
        return context_from_fetch(result, detect_version(order, None))


def context_from_fetch(result: FetchResult, version: str = "4.0", source: str = "server") -> PatientContext | ContextUnavailable:
    """A PatientContext from fetched resources (failures kept), or ContextUnavailable when nothing came back."""
    if not result.resources:
        why = "; ".join(result.failures) if result.failures else "it holds no data for the patient"
        return ContextUnavailable(f"the FHIR server gave no patient data ({why})", configured=True)
    context = context_from_resources(result.resources, version, source, result.failures)
    if context is None:
        return ContextUnavailable("the FHIR server gave no usable patient data", configured=True)
    return context


@lru_cache(maxsize=4)
def _provider(base_url: str, token: str | None, timeout_s: float, observation_codes: tuple[str, ...]) -> ServerContextProvider:
    return ServerContextProvider(base_url, token, timeout_s, observation_codes=observation_codes)
