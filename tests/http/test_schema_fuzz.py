"""Hostile input against the JSON API, as its OpenAPI schema describes it (schemathesis).

Every operation in /schema/openapi.json is a public GET under /api/ (the schema lists nothing
else): each gets valid and invalid parameters generated from the schema, and every answer must
be no 5xx and match the schema (status code declared, content type, body). Bounded: a few dozen
examples per operation and mode, so the whole file runs in well under a minute.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, find, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from registry.app import create_app
from registry.settings import Settings
from registry.web.schema import api_only

pytestmark = [pytest.mark.http]

EXAMPLES = 30


def _schema() -> dict:
    """The schema the app serves; building it needs no database."""
    app = create_app(Settings(database_url="postgresql://unused/unused", secret_key="fuzz"))
    return api_only(app.openapi_schema.to_schema())


SCHEMA = schemathesis.openapi.from_dict(_schema())
OPERATIONS = {
    f"{operation.method.upper()} {operation.path}": operation
    for operation in (result.ok() for result in SCHEMA.get_all_operations())
}


async def test_the_served_schema_is_the_one_fuzzed(client):
    served = (await client.get("/schema/openapi.json")).json()
    assert {f"GET {path}" for path in served["paths"]} == set(OPERATIONS)


def can_be_invalid(operation) -> bool:  # type: ignore[no-untyped-def]
    """Some value of some parameter breaks the schema: without one (no parameters, or only
    bare strings, such as a verification code read leniently) there is nothing invalid to
    send."""
    return any(
        parameter.get("schema", {}) not in ({}, {"type": "string"})
        for parameter in operation.definition.raw.get("parameters", ())
    )


def any_text_is_valid(schema: dict) -> bool:
    """Every text sent for a query parameter of this schema is valid: a string, or an array
    of strings (one text on the wire is an array of one), with no further constraint."""
    text = {"type": "string"}
    constraints = {k: v for k, v in schema.items() if k not in ("default", "description")}
    return constraints == text or {"type": "array", "items": text} in schema.get("oneOf", ())


def negated_only_where_any_text_is_valid(case) -> bool:  # type: ignore[no-untyped-def]
    """A negative case whose invalid values all went to parameters any text is valid for.

    Such a value (`true`, `5`) is sent as text, which the schema accepts: schemathesis then
    reports the request as "schema-violating" and accepted (its known false positive for
    arrays of strings in query strings, schemathesis#3056). Without a parameter to name,
    nothing is excused."""
    data = case.meta.phase.data
    names = {getattr(data, "parameter", None)} | {
        m.parameter for m in getattr(data, "mutations", ()) if getattr(m, "parameter", None)
    }
    names.discard(None)
    parameters = case.operation.definition.raw.get("parameters", ())
    schemas = {p["name"]: p.get("schema", {}) for p in parameters if p.get("in") == "query"}
    return bool(names) and all(n in schemas and any_text_is_valid(schemas[n]) for n in names)


CASES = [
    (label, mode)
    for label, operation in sorted(OPERATIONS.items())
    for mode in GenerationMode
    if mode is GenerationMode.POSITIVE or can_be_invalid(operation)
]


@pytest.mark.parametrize(("label", "mode"), CASES)
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(data=st.data())
async def test_generated_requests_get_documented_answers(client, label, mode, data):
    case = data.draw(OPERATIONS[label].as_strategy(generation_mode=mode))
    sent = case.as_transport_kwargs(base_url="https://testserver.local")
    response = await client.request(
        sent["method"],
        sent["url"],
        params=sent.get("params"),
        headers=sent.get("headers"),
    )
    # Valid by the schema is not always acceptable: the app also refuses control characters,
    # over-long text and cursors it did not issue (400 with the field), which the schema's
    # types do not say; every other check runs (no 5xx, status, content type, headers, body).
    excluded = [positive_data_acceptance]
    if mode is GenerationMode.NEGATIVE and negated_only_where_any_text_is_valid(case):
        excluded.append(negative_data_rejection)
    case.validate_response(response, excluded_checks=excluded)


@pytest.mark.parametrize("path", ["/api/v1/technologies", "/technologies"])
async def test_a_method_not_allowed_names_the_allowed_ones(client, path):
    answer = await client.delete(path, headers={"Accept-Language": "en"})

    assert answer.status_code == 405
    assert "GET" in answer.headers["allow"].split(", ")
    assert "does not accept that kind of request" in answer.text


async def test_numeric_filters_are_integers_in_the_schema_and_named_when_wrong(client):
    parameters = {
        p["name"]: p["schema"]
        for p in SCHEMA.raw_schema["paths"]["/api/v1/search"]["get"]["parameters"]
    }
    for name in ("year", "technology", "fund"):
        assert {"type": "integer"} in parameters[name]["oneOf"], parameters[name]

    answer = await client.get("/api/v1/search?year=twenty", headers={"Accept-Language": "en"})
    assert answer.status_code == 400
    assert answer.json()["error"] == {
        "code": "bad_request",
        "message": "year must be a whole number between 1900 and 2100.",
        "field": "year",
    }


def test_only_parameters_that_take_any_text_excuse_an_accepted_negative_case():
    parameters = {
        p["name"]: p["schema"]
        for p in SCHEMA.raw_schema["paths"]["/api/v1/search"]["get"]["parameters"]
    }
    assert {name for name, schema in parameters.items() if any_text_is_valid(schema)} == {
        "q",
        "kind",
        "province",
    }

    def negated(case) -> set[str]:  # type: ignore[no-untyped-def]
        phase = case.meta.phase.data
        names = {getattr(phase, "parameter", None)} | {m.parameter for m in phase.mutations}
        return names - {None}

    cases = OPERATIONS["GET /api/v1/search"].as_strategy(generation_mode=GenerationMode.NEGATIVE)
    quiet = settings(database=None, max_examples=2000, phases=(Phase.generate,))
    on_year = find(cases, lambda case: negated(case) == {"year"}, settings=quiet)
    on_province = find(cases, lambda case: negated(case) == {"province"}, settings=quiet)
    assert not negated_only_where_any_text_is_valid(on_year)
    assert negated_only_where_any_text_is_valid(on_province)
