"""Search paging: next links are followed only under the base URL, up to max_pages."""

from __future__ import annotations

from collections.abc import Callable

import pytest
import responses
from responses import matchers

from service.fhir import FhirClient, FhirInvalidResponseError

from .conftest import BASE, bundle

Factory = Callable[..., FhirClient]
SEARCH = f"{BASE}/Condition"


def condition(number: int) -> dict[str, object]:
    return {"resourceType": "Condition", "id": f"c{number}"}


def page_url(number: int) -> str:
    return f"{SEARCH}?patient=p1&_count=1&_offset={number}"


def add_pages(rsps: responses.RequestsMock, count: int) -> None:
    """Register ``count`` pages of one Condition each, each linking to the next."""
    for number in range(count):
        last = number == count - 1
        rsps.get(
            SEARCH,
            json=bundle(condition(number), next_url=None if last else page_url(number + 1)),
            match=[matchers.query_param_matcher({"_offset": str(number)}, strict_match=False)]
            if number
            else [matchers.query_param_matcher({"patient": "p1", "_count": "1"})],
        )


def test_search_sends_its_parameters_and_returns_the_resources(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(
        SEARCH,
        json=bundle(condition(1), condition(2)),
        match=[matchers.query_param_matcher({"patient": "p1", "code": "a|b,c|d"})],
    )
    found = make_client().search("Condition", {"patient": "p1", "code": "a|b,c|d"})
    assert [r["id"] for r in found] == ["c1", "c2"]


def test_pages_under_the_base_url_are_all_read(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    add_pages(rsps, 3)
    found = make_client().search("Condition", {"patient": "p1", "_count": "1"})
    assert [r["id"] for r in found] == ["c0", "c1", "c2"]
    assert len(rsps.calls) == 3


def test_a_relative_next_link_is_resolved_against_the_base(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(
        SEARCH,
        json=bundle(condition(0), next_url="Condition?patient=p1&_count=1&_offset=1"),
        match=[matchers.query_param_matcher({"patient": "p1", "_count": "1"})],
    )
    rsps.get(
        SEARCH,
        json=bundle(condition(1)),
        match=[matchers.query_param_matcher({"_offset": "1"}, strict_match=False)],
    )
    found = make_client().search("Condition", {"patient": "p1", "_count": "1"})
    assert [r["id"] for r in found] == ["c0", "c1"]


def test_no_more_than_max_pages_are_read_and_partial_results_are_refused(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    add_pages(rsps, 6)
    with pytest.raises(FhirInvalidResponseError, match="more than 4 pages"):
        make_client(max_pages=4).search("Condition", {"patient": "p1", "_count": "1"})
    assert len(rsps.calls) == 4


def test_exactly_max_pages_is_fine(rsps: responses.RequestsMock, make_client: Factory) -> None:
    add_pages(rsps, 4)
    found = make_client(max_pages=4).search("Condition", {"patient": "p1", "_count": "1"})
    assert len(found) == 4


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example.com/fhir/Condition?page=2",
        "http://ehr.example.org/fhir/Condition?page=2",
        "https://ehr.example.org:8443/fhir/Condition?page=2",
        "https://ehr.example.org/other/Condition?page=2",
        "https://ehr.example.org/fhirx/Condition?page=2",
        "https://ehr.example.org/fhir/../admin?page=2",
        "https://user:pw@ehr.example.org/fhir/Condition?page=2",
        "//evil.example.com/fhir/Condition",
    ],
    ids=[
        "other-host",
        "downgrade-to-http",
        "other-port",
        "other-path",
        "path-prefix-lookalike",
        "path-traversal",
        "userinfo",
        "scheme-relative",
    ],
)
def test_a_next_link_outside_the_base_url_is_not_followed(
    rsps: responses.RequestsMock, make_client: Factory, next_url: str
) -> None:
    rsps.get(SEARCH, json=bundle(condition(1), next_url=next_url))
    evil = rsps.get("https://evil.example.com/fhir/Condition", json=bundle(condition(666)))
    with pytest.raises(FhirInvalidResponseError, match="leaves the base URL"):
        make_client().search("Condition", {"patient": "p1"})
    assert len(rsps.calls) == 1
    assert evil.call_count == 0


def test_outcome_entries_are_left_out_of_search_results(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    page = bundle(condition(1))
    page["entry"].append(
        {
            "resource": {
                "resourceType": "OperationOutcome",
                "issue": [{"severity": "warning", "code": "not-supported"}],
            },
            "search": {"mode": "outcome"},
        }
    )
    rsps.get(SEARCH, json=page)
    assert [r["resourceType"] for r in make_client().search("Condition")] == ["Condition"]


def test_strict_search_asks_the_server_to_fail_on_unknown_parameters(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(SEARCH, json=bundle())
    make_client().search("Condition", [("identifier", "x")], strict=True)
    assert rsps.calls[0].request.headers["Prefer"] == "handling=strict"


def test_a_search_answered_with_something_else_than_a_bundle_is_invalid(
    rsps: responses.RequestsMock, make_client: Factory
) -> None:
    rsps.get(SEARCH, json=condition(1))
    with pytest.raises(FhirInvalidResponseError, match="expected a Bundle"):
        make_client().search("Condition")
