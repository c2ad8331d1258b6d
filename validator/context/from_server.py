"""Patient context from a FHIR server: the searches a CDS Hooks prefetch would have answered, run concurrently.

Every search has a timeout and a byte cap, redirects are never followed, and nothing raises:
what could not be fetched comes back as a sentence in `FetchResult.failures`.

The caller decides which servers may be contacted (see validator/http/cds_hooks.py); this
module contacts whatever base URL it is given.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import httpx
import orjson

FHIR_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


@dataclass(slots=True)
class FetchResult:
    resources: list[dict[str, Any]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class _Search:
    label: str  # for failure sentences: "Condition search"
    resource_type: str
    path: str
    params: dict[str, str]


def _searches(patient_id: str, observation_codes: Sequence[str] | None) -> list[_Search]:
    pid = quote(patient_id, safe="")
    observation = {"patient": patient_id, "_sort": "-date", "_count": "10"}
    if observation_codes:
        observation["code"] = ",".join(observation_codes)
    return [
        _Search("Patient read", "Patient", f"Patient/{pid}", {}),
        _Search("Condition search", "Condition", "Condition", {"patient": patient_id, "clinical-status": "active"}),
        _Search("AllergyIntolerance search", "AllergyIntolerance", "AllergyIntolerance", {"patient": patient_id}),
        _Search("MedicationRequest search", "MedicationRequest", "MedicationRequest", {"patient": patient_id, "status": "active"}),
        _Search("MedicationStatement search", "MedicationStatement", "MedicationStatement", {"patient": patient_id, "status": "active"}),
        _Search("Observation search", "Observation", "Observation", observation),
    ]


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes | None:
    declared = response.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        return None
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            return None
    return bytes(body)


def _resources_of(document: Any, search: _Search, patient_id: str) -> list[dict[str, Any]] | str:
    if not isinstance(document, dict):
        return "the answer is not a JSON object"
    kind = document.get("resourceType")
    if search.resource_type == "Patient":
        if kind != "Patient":
            return f"the answer is a {kind}, not a Patient"
        if document.get("id") not in (None, patient_id):
            return "the answer is a different Patient"
        return [document]
    if kind != "Bundle":
        return f"the answer is a {kind}, not a searchset Bundle"
    found = []
    for entry in document.get("entry") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("resource"), dict):
            continue
        if (entry.get("search") or {}).get("mode") == "outcome":
            continue
        if entry["resource"].get("resourceType") == search.resource_type:
            found.append(entry["resource"])
    return found


async def _run(
    client: httpx.AsyncClient, base: str, search: _Search, patient_id: str, headers: dict[str, str], timeout_s: float, max_bytes: int
) -> tuple[list[dict[str, Any]], str | None]:
    url = f"{base}/{search.path}"
    try:
        async with asyncio.timeout(timeout_s):
            async with client.stream(
                "GET", url, params=search.params or None, headers=headers, timeout=timeout_s, follow_redirects=False
            ) as response:
                if response.status_code != 200:
                    return [], f"{search.label}: the server answered HTTP {response.status_code}"
                body = await _read_capped(response, max_bytes)
    except TimeoutError:
        return [], f"{search.label}: no answer within {timeout_s:g} s"
    except httpx.TimeoutException:
        return [], f"{search.label}: no answer within {timeout_s:g} s"
    except httpx.HTTPError as exc:
        return [], f"{search.label}: the server could not be reached ({type(exc).__name__})"
    if body is None:
        return [], f"{search.label}: the answer is larger than {max_bytes} bytes"
    try:
        document = orjson.loads(body)
    except orjson.JSONDecodeError:
        return [], f"{search.label}: the answer is not valid JSON"
    resources = _resources_of(document, search, patient_id)
    if isinstance(resources, str):
        return [], f"{search.label}: {resources}"
    return resources, None


async def fetch_patient_resources(
    base_url: str,
    patient_id: str,
    token: str | None = None,
    timeout_s: float = 2.0,
    client: httpx.AsyncClient | None = None,
    max_bytes: int = 2_000_000,
    *,
    observation_codes: Sequence[str] | None = None,
) -> FetchResult:
    """The patient, active conditions, allergies, active medications and recent (kidney-function) observations."""
    if not FHIR_ID.match(patient_id or ""):
        return FetchResult(failures=[f"{patient_id!r} is not a valid FHIR id; nothing was fetched"])
    base = base_url.rstrip("/")
    headers = {"Accept": "application/fhir+json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    own = client is None
    http = client or httpx.AsyncClient(follow_redirects=False, timeout=timeout_s)
    try:
        outcomes = await asyncio.gather(
            *(_run(http, base, s, patient_id, headers, timeout_s, max_bytes) for s in _searches(patient_id, observation_codes))
        )
    finally:
        if own:
            await http.aclose()
    result = FetchResult()
    for resources, failure in outcomes:
        result.resources += resources
        if failure:
            result.failures.append(failure)
    return result
