"""The OpenAPI document is valid, and generated requests to every JSON endpoint never get a 5xx.

Schemathesis generates parameters from the schema (valid and invalid ones) and
checks each answer against it: status codes and bodies the schema declares.
Example counts are small so the run stays short; /sparql is covered by its own tests.
"""

from __future__ import annotations

import dataclasses

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from .conftest import APPENDIX_2026


@pytest.fixture(scope="module")
def api_schema(app):
    from cchc.service.app import create_app

    # schemathesis calls the app as host "testserver", which the loopback-bound service does not answer
    settings = dataclasses.replace(app.settings, trusted_hosts="localhost,testserver")
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(settings, app))


def test_openapi_document_is_valid(api_schema):
    api_schema.validate()  # against the OpenAPI meta-schema; raises on the first problem
    paths = set(api_schema.raw_schema["paths"])
    assert {"/search", "/tasks/{task_id}", "/tasks/{task_id}/history", "/instruments/{instrument_id}",
            "/agencies/{agency_id}", "/documents", "/documents/{document_id}", "/carryover", "/health"} <= paths


def test_no_server_errors(api_schema):
    # One hypothesis run per operation (schemathesis' pytest plugin, `from_fixture`, does not run on pytest 9).
    operations = [r.ok() for r in api_schema.exclude(path_regex="^/sparql").get_all_operations()]
    assert len(operations) >= 10
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        def check(case) -> None:
            case.call_and_validate()

        check()


def test_real_ids_answer_by_the_schema(api_schema):
    """Random ids mostly miss; these hit, so the 200 bodies are checked against the schema too."""
    for path, params in (("/tasks/{task_id}", {"task_id": "langson-2026-cchc-phuluc/III.9"}),
                         ("/tasks/{task_id}/history", {"task_id": "langson-2026-cchc-phuluc/III.9"}),
                         ("/instruments/{instrument_id}", {"instrument_id": "76-nq-cp"}),
                         ("/agencies/{agency_id}", {"agency_id": "so-kh-cn"}),
                         ("/documents/{document_id}", {"document_id": APPENDIX_2026[:-4]})):
        case = api_schema[path]["GET"].Case(path_parameters=params)
        response = case.call_and_validate()
        assert response.status_code == 200, path
