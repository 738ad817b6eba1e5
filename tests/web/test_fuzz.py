"""The whole API fuzzed from its own OpenAPI spec: no request, however odd, gets a 500, and
every reply matches the schema the API publishes."""

from __future__ import annotations

import schemathesis
from center import Center
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)

EXAMPLES_PER_OPERATION = 30


def test_no_request_breaks_the_api(center: Center) -> None:
    schema = schemathesis.openapi.from_asgi("/openapi.json", center.client.app)
    headers = center.as_("commander")
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case) -> None:
            case.call_and_validate(
                headers=headers,
                checks=[not_a_server_error, content_type_conformance, response_schema_conformance],
            )

        fuzz()
