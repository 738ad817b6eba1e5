"""The whole API fuzzed from its own OpenAPI spec: no request, however odd, gets a 500, and
every reply matches the schema the API publishes. Then every operation again, each generated
body with one thing standard JSON does not allow: each is refused with 422 at the door."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from center import Center
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
)
from test_hostile_input import assert_guarded

from conftest import running_center

EXAMPLES_PER_OPERATION = 30
EXAMPLES_PER_OTHER_ROLE = 8
POISONED_PER_OPERATION = 50
#: what a leaf of a generated body is replaced by: none of it is standard (or I-JSON) JSON
POISONS = [
    b"NaN",
    b"Infinity",
    b"-Infinity",
    b"1e309",
    b"-4.2e400",
    b"9007199254740993",
    b'"\\ud800"',
    b'"x\\udfff"',
    b'"\\ude00\\ud83d"',
    b'"\xed\xa0\x80"',
    b'"\xff"',
    b"[" * 40 + b"0" + b"]" * 40,
]
_MARK = "\x00poison\x00"  # written by json.dumps as a text no generated body holds


def _spec(center: Center) -> Any:
    return schemathesis.openapi.from_asgi(
        "/openapi.json", center.client.app, headers=center.as_("commander")
    )


@pytest.fixture(scope="module")
def scratch(
    new_database: Callable[[str], str], tmp_path_factory: pytest.TempPathFactory, cache_dir: Path
) -> Iterator[Center]:
    """A command center of its own (SQLite), which the roles' fuzzing may spoil."""
    with running_center(
        new_database("sqlite"), tmp_path_factory.mktemp("fuzz"), cache_dir, "sqlite"
    ) as center:
        yield center


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def spoilable(
    request: pytest.FixtureRequest,
    new_database: Callable[[str], str],
    tmp_path_factory: pytest.TempPathFactory,
    cache_dir: Path,
) -> Iterator[Center]:
    """A command center of its own per backend for the commander's fuzzing, which writes
    random categories, plans, tiers, calendar days and opening hours: on the shared center
    they would change what later tests read (a robbery renamed, a plan of 7 cars)."""
    with running_center(
        new_database(request.param), tmp_path_factory.mktemp("fuzz"), cache_dir, request.param
    ) as center:
        yield center


def test_no_request_breaks_the_api(spoilable: Center) -> None:
    """As the commander, who reaches every operation but the admin's own."""
    _fuzz_as(spoilable, "commander")


# the admin's operations (disable, reset, revoke) are tested in test_users_api: fuzzed, they
# would lock the other roles out of their own fuzzing
@pytest.mark.parametrize("role", ["dispatcher", "officer", "kiosk_clerk"])
def test_no_request_breaks_the_api_as_any_role(scratch: Center, role: str) -> None:
    """Authorization fuzzed: each role is refused more, and none gets a 500 or a reply off
    its schema."""
    _fuzz_as(scratch, role)


def _fuzz_as(center: Center, role: str) -> None:
    schema = _spec(center)
    headers = center.as_(role)
    examples = EXAMPLES_PER_OPERATION if role == "commander" else EXAMPLES_PER_OTHER_ROLE
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14
    # a logout would revoke the token every later request goes with (test_users_api has it)
    operations = [o for o in operations if (o.method, o.path) != ("post", "/api/auth/logout")]

    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=examples,
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


def _leaves(value: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(value, dict) and value:
        return [p for k, v in value.items() for p in _leaves(v, (*path, k))]
    if isinstance(value, list) and value:
        return [p for i, v in enumerate(value) for p in _leaves(v, (*path, i))]
    return [path]


def poisoned(body: Any, poison: bytes, pick: int) -> bytes:
    """`body` as JSON text with one of its leaves (the `pick`-th, cyclically) as `poison`."""
    if not isinstance(body, dict | list):
        body = {"value": body}
    paths = _leaves(body)
    path = paths[pick % len(paths)]
    if not path:
        body = {"value": body}
        path = ("value",)
    *parents, last = path
    holder = body
    for step in parents:
        holder = holder[step]
    holder[last] = _MARK
    return json.dumps(body).encode().replace(json.dumps(_MARK).encode(), poison)


def test_non_standard_json_is_refused_everywhere(center: Center) -> None:
    """Every operation, with or without a body of its own, gets generated requests whose body
    holds NaN, Infinity, an overflowing number, a lone surrogate, bytes that are not UTF-8,
    a 40-deep nesting, or a name twice: all are answered 422 with the rule, none 5xx."""
    schema = _spec(center)
    headers = {**center.as_("commander"), "Content-Type": "application/json"}
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: list[int] = []

    for operation in operations:

        @given(
            case=operation.as_strategy(),
            poison=st.sampled_from([*POISONS, b"twice"]),
            pick=st.integers(min_value=0, max_value=1000),
        )
        @settings(
            max_examples=POISONED_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def fuzz(case: schemathesis.Case, poison: bytes, pick: int) -> None:
            request = case.as_transport_kwargs()
            body = request.get("json", {"generated": None})
            if poison == b"twice":
                content = b'{"id": 1, "id": 2, "body": %s}' % json.dumps(body).encode()
            else:
                content = poisoned(body, poison, pick)
            reply = center.client.request(
                request["method"],
                request["url"],
                params=request["params"],
                content=content,
                headers=headers,
            )
            statuses.append(reply.status_code)
            assert reply.status_code == 422, (content[:300], reply.text)
            assert reply.json()["error"] == "invalid_input"
            assert_guarded(reply)

        fuzz()

    assert len(statuses) >= 2000
    assert max(statuses) < 500
