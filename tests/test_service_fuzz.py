"""The service never answers 5xx: schemathesis against its OpenAPI, and hostile requests.

Bounded, deterministic slices of the big runs in ``nox -s load`` (20,000 hostile
requests there): both run against a real uvicorn server on 127.0.0.1.
"""

from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.core.result import Ok

from cluneal.service import create_app
from tests.hostile import hostile_request
from tests.servers import running

if TYPE_CHECKING:
    from collections.abc import Iterator


# 40 examples per operation keep this in the default test run; `nox -s load` sets more.
EXAMPLES = int(os.environ.get("CLUNEAL_SCHEMATHESIS_EXAMPLES", "40"))


@pytest.fixture(scope="module")
def live() -> Iterator[str]:
    with running(create_app()) as url:
        yield url


def test_openapi_operations_never_answer_5xx(live: str) -> None:
    """schemathesis generates requests for every operation of the OpenAPI: 0 server errors."""
    api = schemathesis.openapi.from_url(f"{live}/openapi.json")
    operations = [r.ok() for r in api.get_all_operations() if isinstance(r, Ok)]
    assert len(operations) == 3
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            derandomize=True,
            database=None,
            deadline=None,
            suppress_health_check=list(HealthCheck),
        )
        def call(case: Any) -> None:
            response = case.call(timeout=30)
            assert response.status_code < 500, (case.path, case.body, response.text)

        call()


def test_hostile_requests_never_answer_5xx(live: str) -> None:
    """A seeded slice of hostile bodies: garbage bytes, truncated JSON, nested Bundles,
    wrong types, deleted members, huge and hostile strings in every position."""
    rng = random.Random(20261201)  # noqa: S311 - seeded test data, not a secret
    statuses: dict[int, int] = {}
    with httpx.Client(base_url=live, timeout=30) as client:
        for _ in range(300):
            path, body = hostile_request(rng)
            response = client.post(path, content=body, headers={"content-type": "application/json"})
            assert response.status_code < 500, (path, body[:200], response.text)
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    # The slice exercises refusals and answers alike.
    assert statuses.get(400, 0) > 0 and statuses.get(200, 0) > 0 and statuses.get(412, 0) > 0
