"""Property-based run of the service against its own OpenAPI schema: no 5xx, no answer that breaks the schema.

Bounded here (a few examples per operation, to keep the suite fast); `make fuzz` runs the big one
(MEDVAL_FUZZ_EXAMPLES, default 300 per operation).
"""

from __future__ import annotations

import os

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import checks

from validator.http.app import create_app
from validator.http.settings import Settings

EXAMPLES = int(os.environ.get("MEDVAL_FUZZ_EXAMPLES", "15"))

# What the issue asks: no 5xx, and every answer (status, media type, headers, body) as the schema says. Not
# positive_data_acceptance: a Parameters is schema-valid yet answered 400 when it holds no 'resource', by design.
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
    checks.negative_data_rejection,
    checks.unsupported_method,
]

schema = schemathesis.openapi.from_asgi("/openapi.json", create_app(Settings()))


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_the_api_honours_its_schema(case: schemathesis.Case) -> None:
    case.call_and_validate(checks=CHECKS)
