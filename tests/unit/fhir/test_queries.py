"""Search parameters built from the mappers' terminology."""

from __future__ import annotations

from types import MappingProxyType

import pytest

from service.fhir.queries import (
    check_type,
    escape_search_value,
    observation_code_param,
    search_pairs,
)
from service.mappers import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.codes import ASSESSMENT_SYSTEM, LOINC, NCIT, CodeSet

LOINC_OID = "urn:oid:2.16.840.1.113883.6.1"


def test_the_observation_code_parameter_lists_every_code_the_mappers_read() -> None:
    param = observation_code_param(DEFAULT_TERMINOLOGY)
    assert param is not None
    listed = set(param.split(","))
    expected = {
        f"{system}|{code}"
        for code_set in DEFAULT_TERMINOLOGY.observations.values()
        for system, code in code_set.exact
    }
    # LOINC is asked for under its OID too (terminology.md v1.1)
    expected |= {e.replace(LOINC, LOINC_OID) for e in expected if e.startswith(f"{LOINC}|")}
    assert listed == expected
    assert f"{LOINC_OID}|29593-1" in listed
    assert f"{LOINC}|29593-1" in listed
    assert f"{NCIT}|C18000" in listed
    assert f"{ASSESSMENT_SYSTEM}|future-liver-remnant" in listed


def test_site_codes_are_searched_for_too() -> None:
    observations = dict(DEFAULT_TERMINOLOGY.observations)
    observations["ki67"] = observations["ki67"].extended([("urn:oid:1.2.3", "KI67-LOCAL")])
    terminology = Terminology(observations=MappingProxyType(observations))
    param = observation_code_param(terminology)
    assert param is not None
    assert "urn:oid:1.2.3|KI67-LOCAL" in param.split(",")


def test_the_parameter_is_the_same_every_time() -> None:
    assert observation_code_param(DEFAULT_TERMINOLOGY) == observation_code_param(Terminology())


def test_a_prefix_family_means_no_code_filter() -> None:
    terminology = Terminology(
        observations=MappingProxyType({"x": CodeSet(prefixes=((LOINC, "29593"),))})
    )
    assert observation_code_param(terminology) is None


def test_search_special_characters_are_escaped() -> None:
    assert escape_search_value(r"a,b|c$d\e") == r"a\,b\|c\$d\\e"


def test_local_codes_with_commas_do_not_split_the_parameter() -> None:
    terminology = Terminology(
        observations=MappingProxyType({"x": CodeSet(frozenset({("urn:local", "A,B")}))})
    )
    assert observation_code_param(terminology) == r"urn:local|A\,B"


def test_search_parameters_can_be_a_mapping_pairs_or_a_query_string() -> None:
    assert search_pairs({"a": "1"}) == [("a", "1")]
    assert search_pairs([("d", "ge1"), ("d", "le2")]) == [("d", "ge1"), ("d", "le2")]
    assert search_pairs("identifier=sys%7Cval&x=") == [("identifier", "sys|val"), ("x", "")]
    assert search_pairs(None) == []


@pytest.mark.parametrize("name", ["patient", "Patient/1", "../x", "", "Pa tient"])
def test_resource_type_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError, match="resource type"):
        check_type(name)


@pytest.mark.parametrize("bad_id", ["p1\n", ".", ".."])
def test_ids_that_would_escape_or_bend_the_url_are_refused(bad_id: str) -> None:
    from service.fhir.queries import check_id

    with pytest.raises(ValueError, match="id"):
        check_id(bad_id)
