"""openapi.yaml describes the running app: every route, and nothing the app answers
contradicts it (interfaces.md §4).

The schemathesis run drives the app in-process (WSGI, the embedded demo store) with
a bounded, derandomised number of cases per operation, so the run is repeatable.
"""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import requests
import responses
import schemathesis
import yaml
from flask import Flask
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openapi_spec_validator import validate
from schemathesis import Case
from schemathesis.checks import not_a_server_error

from service import __version__
from service.app import create_app
from tests.conftest import FHIR_SERVICE_SETTINGS, RESULT_SCHEMA, SCENARIOS, TESTS

SPEC_PATH = TESTS.parent / "openapi.yaml"
IGNORED_METHODS = {"HEAD", "OPTIONS"}
OPERATION_METHODS = {"get", "put", "post", "delete", "patch", "options", "head", "trace"}

CHECKS = {
    "enabled": False,  # only those named below; positive_data_acceptance does not fit
    # (a Bundle valid by the envelope schema may hold no Patient: 422 is right)
    "not_a_server_error": {"enabled": True},
    "status_code_conformance": {"enabled": True},
    "content_type_conformance": {"enabled": True},
    "response_headers_conformance": {"enabled": True},
    "response_schema_conformance": {"enabled": True, "validate-formats": True},
    "negative_data_rejection": {"enabled": True},
    "unsupported_method": {"enabled": True},
}
# The generated run drives the open demo store: the access token is not generated as a
# parameter there (its refusals are checked below, on an app that asks for tokens).
CONFIG = schemathesis.Config.from_dict(
    {"checks": CHECKS, "generation": {"mode": "all", "with-security-parameters": False}}
)


def load_spec(path: Path = SPEC_PATH) -> dict[str, Any]:
    spec: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    return spec


def make_app() -> Flask:
    return create_app({"TESTING": True})


def flask_operations(app: Flask) -> set[tuple[str, str]]:
    """Return (OpenAPI path template, method) for every rule of the app but ``static``."""
    operations = set()
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        path = rule.rule.replace("<path:filename>", "<filename>")
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", f"{{{argument}}}")
        assert "<" not in path, f"converter in {rule.rule}: translate it here"
        operations |= {(path, m) for m in rule.methods or () if m not in IGNORED_METHODS}
    return operations


def spec_operations(spec: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (path, method.upper())
        for path, item in spec["paths"].items()
        for method in item
        if method in OPERATION_METHODS
    }


def test_the_spec_is_valid_openapi_3_1() -> None:
    spec = load_spec()
    assert spec["openapi"].startswith("3.1.")
    validate(spec)


def test_the_spec_version_is_the_service_version() -> None:
    info = load_spec()["info"]
    assert info["version"] == __version__
    assert "supports, not replaces, the MDT" in info["description"]


def test_the_spec_describes_exactly_the_routes_of_the_app() -> None:
    in_app = flask_operations(make_app())
    in_spec = spec_operations(load_spec())
    assert in_app - in_spec == set(), "routes of the app missing from openapi.yaml"
    assert in_spec - in_app == set(), "operations in openapi.yaml that the app does not have"


# ---------------------------------------------------------------- the result schema

ANNOTATIONS = {"title", "description", "examples", "$schema", "$comment"}


def resolve(node: Any, spec: dict[str, Any]) -> Any:
    """Inline the local ``#/components/...`` references (the spec has no cycles)."""
    if isinstance(node, list):
        return [resolve(item, spec) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        target: Any = spec
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        return resolve(target, spec)
    return {key: resolve(value, spec) for key, value in node.items()}


def differences(contract: Any, described: Any, where: str = "") -> list[str]:
    """Say where ``described`` is not ``contract`` plus annotations and optional properties."""
    if isinstance(contract, list) and isinstance(described, list):
        if len(contract) != len(described):
            return [f"{where}: {len(described)} items instead of {len(contract)}"]
        return [
            problem
            for index, (c, d) in enumerate(zip(contract, described, strict=True))
            for problem in differences(c, d, f"{where}/{index}")
        ]
    if not isinstance(contract, dict) or not isinstance(described, dict):
        return [] if contract == described else [f"{where}: {described!r} != {contract!r}"]
    problems = []
    for key in contract.keys() - ANNOTATIONS:
        if key not in described:
            problems.append(f"{where}: keyword {key} missing")
        elif key == "properties":
            extra = described[key].keys() - contract[key].keys()
            problems += [
                f"{where}/properties/{name}: required but not in the contract"
                for name in extra & set(described.get("required", ()))
            ]
            problems += [
                problem
                for name, schema in contract[key].items()
                for problem in differences(
                    schema, described[key].get(name), f"{where}/properties/{name}"
                )
            ]
        else:
            problems += differences(contract[key], described[key], f"{where}/{key}")
    extra_keywords = described.keys() - contract.keys() - ANNOTATIONS
    problems += [f"{where}: keyword {key} not in the contract" for key in extra_keywords]
    return problems


def test_the_result_schema_is_the_contract_schema() -> None:
    spec = load_spec()
    described = resolve(spec["components"]["schemas"]["EvaluationResult"], spec)
    contract = json.loads(RESULT_SCHEMA.read_text(encoding="utf-8"))
    assert differences(contract, described) == []


def test_the_comparison_notices_a_changed_keyword() -> None:
    contract = {"type": "object", "properties": {"a": {"type": "string", "minLength": 1}}}
    assert differences(contract, contract) == []
    changed = {"type": "object", "properties": {"a": {"type": "string"}}}
    assert differences(contract, changed) == ["/properties/a: keyword minLength missing"]


# ---------------------------------------------------------------- the live app

APP = make_app()
schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
schema.app = APP

BOUNDED = settings(
    max_examples=50,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@schema.parametrize()
@BOUNDED
def test_the_app_answers_as_the_spec_says(case: Case) -> None:
    case.call_and_validate()


# Generated ids and Bundles seldom name a real patient, so the evaluating operations
# are also driven with the demo patients and the scenario Bundles on any date.
DEMO_PATIENTS = APP.test_client().get("/api/patients").get_json()["patients"]
SCENARIO_BUNDLES = sorted(p for p in SCENARIOS.glob("*.json") if ".expected." not in p.name)
EVALUATION_DATES = st.dates(min_value=date(1900, 1, 1)).map(date.isoformat)


@pytest.mark.parametrize(
    ("path", "method", "flags"),
    [
        ("/api/patients/{patient_id}/evaluation", "GET", st.just({})),
        (
            "/api/patients/{patient_id}/risk-assessment",
            "POST",
            st.sampled_from([{}, {"dry-run": "true"}, {"dry-run": "false"}]),
        ),
    ],
    ids=["evaluation", "risk-assessment"],
)
@BOUNDED
@given(data=st.data())
def test_demo_patients_are_answered_as_the_spec_says_on_any_date(
    path: str, method: str, flags: st.SearchStrategy[dict[str, str]], data: st.DataObject
) -> None:
    query = {"at": data.draw(EVALUATION_DATES), **data.draw(flags)}
    patient_id = data.draw(st.sampled_from(DEMO_PATIENTS))
    case = schema[path][method].Case(path_parameters={"patient_id": patient_id}, query=query)
    response = case.call_and_validate()
    assert response.status_code in (200, 201)


@BOUNDED
@given(
    path=st.sampled_from(SCENARIO_BUNDLES),
    at=EVALUATION_DATES,
    media_type=st.sampled_from(["application/fhir+json", "application/json"]),
)
def test_scenario_bundles_are_answered_as_the_spec_says_on_any_date(
    path: Path, at: str, media_type: str
) -> None:
    bundle = json.loads(path.read_text(encoding="utf-8"))
    case = schema["/api/evaluate"]["POST"].Case(
        query={"at": at}, body=bundle, media_type=media_type
    )
    response = case.call_and_validate()
    assert response.status_code == 200


def test_a_body_over_the_size_limit_is_answered_as_the_spec_says() -> None:
    small_schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
    small_schema.app = create_app({"TESTING": True, "MAX_CONTENT_LENGTH": 1024})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [], "padding": "x" * 2048}
    case = small_schema["/api/evaluate"]["POST"].Case(body=bundle, media_type="application/json")
    assert case.call_and_validate().status_code == 413


# ---------------------------------------------------------------- on a failing FHIR server

FHIR_BASE = "https://fhir.example.test/fhir"  # never reached: `responses` answers
ANY_FHIR_URL = re.compile(re.escape(FHIR_BASE) + r"(/.*)?")
OUTCOME = {
    "resourceType": "OperationOutcome",
    "issue": [{"severity": "error", "code": "exception", "diagnostics": "database down"}],
}
SERVER_ERROR: dict[str, Any] = {"status": 500, "json": OUTCOME}
REFUSED: dict[str, Any] = {"status": 400, "json": OUTCOME}  # passed on as `outcome`
NOT_FOUND: dict[str, Any] = {"status": 404, "json": OUTCOME}
TIMEOUT: dict[str, Any] = {"body": requests.ReadTimeout("no answer")}
EVALUATION = ("/api/patients/{patient_id}/evaluation", "GET")
WRITE_BACK = ("/api/patients/{patient_id}/risk-assessment", "POST")


@pytest.mark.parametrize(
    ("operation", "fhir_answer", "status"),
    [
        (EVALUATION, SERVER_ERROR, 502),
        (EVALUATION, REFUSED, 502),
        (EVALUATION, TIMEOUT, 504),
        (EVALUATION, NOT_FOUND, 404),
        (WRITE_BACK, SERVER_ERROR, 502),
        (WRITE_BACK, TIMEOUT, 504),
        (("/readyz", "GET"), SERVER_ERROR, 503),
        (("/api/patients", "GET"), SERVER_ERROR, 404),
    ],
    ids=[
        "evaluation-502",
        "evaluation-502-with-outcome",
        "evaluation-504",
        "evaluation-404",
        "write-back-502",
        "write-back-504",
        "readiness-503",
        "no-listing-404",
    ],
)
def test_fhir_server_failures_are_answered_as_the_spec_says(
    operation: tuple[str, str], fhir_answer: dict[str, Any], status: int
) -> None:
    fhir_schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
    fhir_schema.app = create_app(
        {
            "TESTING": True,
            **FHIR_SERVICE_SETTINGS,
            "FHIR_BASE_URL": FHIR_BASE,
            "FHIR_RETRIES": 0,
        }
    )
    path, method = operation
    for_patient = "{patient_id}" in path
    case = fhir_schema[path][method].Case(
        path_parameters={"patient_id": "p1"} if for_patient else {},
        query={"at": "2026-11-22"} if for_patient else {},
    )
    with responses.RequestsMock(assert_all_requests_are_fired=False) as fhir:
        for verb in ("GET", "PUT", "POST"):
            fhir.add(verb, ANY_FHIR_URL, **fhir_answer)
        # 502, 503 and 504 are the right answers here: every other check still applies.
        response = case.call_and_validate(excluded_checks=[not_a_server_error])
    assert response.status_code == status


# ---------------------------------------------------------------- access tokens


def test_every_guarded_route_declares_the_bearer_scheme_and_its_scope() -> None:
    app, spec = make_app(), load_spec()
    guarded: dict[tuple[str, str], str] = {}
    for rule in app.url_map.iter_rules():
        scope = getattr(app.view_functions[rule.endpoint], "required_scope", None)
        if scope is None:
            continue
        path = rule.rule
        for argument in rule.arguments:
            path = path.replace(f"<{argument}>", f"{{{argument}}}")
        for method in (rule.methods or set()) - IGNORED_METHODS:
            guarded[(path, method)] = scope
    assert len(guarded) == 4
    declared = {
        (path, method.upper()): operation.get("security")
        for path, item in spec["paths"].items()
        for method, operation in item.items()
        if method in OPERATION_METHODS
    }
    for operation, scope in guarded.items():
        assert declared[operation] == [{"apiAccessToken": [scope]}], operation
        responses_ = spec["paths"][operation[0]][operation[1].lower()]["responses"]
        assert {"401", "403"} <= set(responses_), operation
    unguarded_api = {
        op for op, security in declared.items() if op[0].startswith("/api/") and not security
    }
    assert unguarded_api == {("/api/criteria-sets", "GET")}


def test_refusals_for_missing_and_under_scoped_tokens_are_answered_as_the_spec_says() -> None:
    from tests.cdshooks.jwt_factory import jwks, new_ec_key, sign

    key = new_ec_key("k1")
    issuer = "https://idp.example.org"
    guarded_schema = schemathesis.openapi.from_path(SPEC_PATH, config=CONFIG)
    guarded_schema.app = create_app({"TESTING": True, "API_ISSUERS": {issuer: {"jwks": jwks(key)}}})
    under_scoped = sign(key, iss=issuer, aud="http://127.0.0.1:8080", claims={"scope": "x"})
    for path, method in [EVALUATION, WRITE_BACK, ("/api/patients", "GET")]:
        for headers, status in [({}, 401), ({"Authorization": f"Bearer {under_scoped}"}, 403)]:
            case = guarded_schema[path][method].Case(
                path_parameters={"patient_id": "demo-transplant"} if "{" in path else {},
                headers=headers,
            )
            assert case.call_and_validate().status_code == status
