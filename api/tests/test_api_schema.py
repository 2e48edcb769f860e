"""The OpenAPI document validates, and schemathesis, fuzzing every operation against the live server,
finds no server error and no response the document does not describe."""

from __future__ import annotations

import io

import pytest
import schemathesis
from django.core.management import call_command
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance

# Enough to meet every operation's edge cases without turning the suite into a soak test.
EXAMPLES_PER_OPERATION = 15


def test_the_schema_validates_without_warnings(db):
    output = io.StringIO()
    call_command("spectacular", "--validate", "--fail-on-warn", stdout=output)
    document = output.getvalue()
    assert "/api/v1/orders/{number}/cancel/" in document
    assert "channelToken" in document
    assert "type: object\n      additionalProperties: {}" not in document  # no "any object"


def test_the_schema_and_the_docs_are_served_without_a_cdn(client):
    schema = client.get("/api/schema/")
    assert schema.status_code == 200 and b"openapi: 3" in schema.content
    docs = client.get("/api/docs/")
    assert docs.status_code == 200
    page = docs.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower() and "<style>" not in page  # the CSP allows neither
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.content.decode()


@pytest.mark.django_db(transaction=True)
def test_schemathesis_finds_no_server_error_and_no_response_outside_the_schema(live_server, make_client, tea, customer):
    _client, token = make_client(rate=100_000)
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/schema/")
    headers = {"Authorization": f"Bearer {token}"}
    checks = [not_a_server_error, response_schema_conformance, content_type_conformance]
    tried = []
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                derandomize=True,
                suppress_health_check=list(HealthCheck),
            )
            @given(case=operation.as_strategy(generation_mode=mode))
            def fuzz(case):
                response = case.call(headers=headers)
                case.validate_response(response, checks=checks)

            fuzz()
            tried.append(f"{operation.method.upper()} {operation.path}")
    assert len(set(tried)) == 12  # every operation of v1 was fuzzed
