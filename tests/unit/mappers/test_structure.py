"""The FHIR R4 structure check against fhir.resources, its reference.

:mod:`service.mappers.structure` replaced fhir.resources' pydantic models on the
evaluation path (issue 12: a fortieth of the time, nothing to import). These tests hold
it to the models it was generated from: the element tables are current, every resource
in the test fixtures gets the same verdict from both, and of tens of thousands of
mutations none that fhir.resources rejects is accepted. Where the check is stricter
(fhir.resources coerces ``"1"`` to a number and ``"true"`` to a boolean, takes ``null``
and a URI with spaces) the reasons are listed, each one the FHIR JSON format's rule.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from service.mappers.errors import UnreadableError
from service.mappers.json_text import HostileNumber, parse_json
from service.mappers.structure import check_structure

from .conftest import without_hostile_numbers

TESTS = Path(__file__).resolve().parents[2]
READ_TYPES = ("Patient", "Observation", "Condition", "Procedure")

STRICTER_REASONS = {
    "null is not a value",  # FHIR JSON: no nulls outside primitive/_name lists
    "not a valid uri",  # R4 uri is \S* (fhir.resources lets spaces through)
    "not a valid dateTime",  # fhir.resources turns the number 7 into a dateTime
    "not a valid decimal",  # ... and "1" into a decimal,
    "not a valid boolean",  # "true" into a boolean,
    "not a valid integer",  # and true into an integer
}


def _verdict(resource: dict[str, Any]) -> str | None:
    try:
        check_structure(resource, resource["resourceType"], [10_000])
    except UnreadableError as exc:
        return str(exc)
    return None


def _reference_verdict(resource: dict[str, Any]) -> str | None:
    from fhir.resources.R4B import get_fhir_model_class

    adjusted = without_hostile_numbers(resource)
    if adjusted["resourceType"] in ("Condition", "Procedure") and "subject" not in adjusted:
        adjusted = {**adjusted, "subject": {"reference": "Patient/attributed"}}
    try:
        get_fhir_model_class(adjusted["resourceType"]).model_validate(adjusted)
    except Exception as exc:  # noqa: BLE001 - pydantic and fhir.resources raise several kinds
        return str(exc).splitlines()[1] if "\n" in str(exc) else str(exc)
    return None


def _resources(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        if node.get("resourceType") in READ_TYPES:
            yield node
        for value in node.values():
            yield from _resources(value)
    elif isinstance(node, list):
        for value in node:
            yield from _resources(value)


def _fixture_resources() -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for path in sorted(TESTS.rglob("*.json")):
        try:
            document = parse_json(path.read_bytes())
        except ValueError:
            continue  # a fixture that is deliberately not JSON
        for resource in _resources(document):
            seen.setdefault(repr(resource), resource)
    return list(seen.values())


def test_the_element_tables_are_generated_from_the_installed_models() -> None:
    from tools.generate_r4_structure import TARGET, build, render

    assert TARGET.read_text(encoding="utf-8") == render(*build()), (
        "run python -m tools.generate_r4_structure"
    )


def test_every_fixture_resource_gets_the_verdict_of_fhir_resources() -> None:
    resources = _fixture_resources()
    assert len(resources) > 1_000
    disagreements = [
        (resource.get("id"), ours, theirs)
        for resource in resources
        if ((ours := _verdict(resource)) is None)
        != ((theirs := _reference_verdict(resource)) is None)
    ]
    assert disagreements == []


def _paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    items = (
        node.items()
        if isinstance(node, dict)
        else enumerate(node)
        if isinstance(node, list)
        else ()
    )
    for key, value in items:
        if prefix or key != "resourceType":
            yield (*prefix, key)
            yield from _paths(value, (*prefix, key))


_DELETE = object()
REPLACEMENTS: tuple[Any, ...] = (
    _DELETE, None, "x", "", " x", 7, Decimal("1.5"), True, "true", "1", {}, {"foo": 1},
    [], ["x"], [{"foo": 1}], "2026-02-30", "2026-01-01T10:00:00", "2026-13", 2**31,
    "Le\u00a0Gall", "\u3000", "a\u2028b", "a\x0bb",
)  # fmt: skip
"""Each element of a base resource is replaced by each of these in turn (or deleted);
the Unicode spaces are not XML Schema whitespace: R4's patterns take them in text."""


def _mutated(resource: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    copied = copy.deepcopy(resource)
    node = copied
    for part in path[:-1]:
        node = node[part]
    if value is _DELETE:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copied


@pytest.mark.parametrize("resource_type", READ_TYPES)
def test_no_mutation_that_fhir_resources_rejects_is_accepted(resource_type: str) -> None:
    bases = [r for r in _fixture_resources() if r["resourceType"] == resource_type][:25]
    accepted_by_us_only: list[tuple[Any, ...]] = []
    stricter: set[str] = set()
    mutations = 0
    for base in bases:
        for path in _paths(base):
            if path[0] == "contained":
                continue  # not walked, by design: see test_contained_content_is_not_walked
            for value in REPLACEMENTS:
                mutant = _mutated(base, path, value)
                mutations += 1
                ours, theirs = _verdict(mutant), _reference_verdict(mutant)
                if ours is None and theirs is not None:
                    accepted_by_us_only.append((base.get("id"), path, repr(value), theirs))
                elif ours is not None and theirs is None:
                    stricter.add(ours.rsplit(": ", 1)[-1])
    assert mutations > 1_000
    assert accepted_by_us_only == []
    assert stricter <= STRICTER_REASONS


def observation(**elements: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "1975-2"}]},
        **elements,
    }


@pytest.mark.parametrize(
    ("elements", "message"),
    [
        ({"valueQuantitty": {"value": 1}}, "valueQuantitty: unknown element"),
        ({"code": {"coding": [{"code": " x"}]}}, "code.coding[0].code: not a valid code"),
        ({"valueString": "a", "valueBoolean": True}, "valueBoolean: more than one value[x]"),
        ({"status": None}, "status: null is not a value"),
        ({"category": {"text": "lab"}}, "category: not a list"),
        ({"subject": ["Patient/p1"]}, "subject: a list where one value is expected"),
        ({"effectiveDateTime": "2026-02-30"}, "effectiveDateTime: not a valid dateTime"),
        ({"issued": "2026-01-01T10:00:00"}, "issued: not a valid instant"),
        ({"valueInteger": 2**31}, "valueInteger: not a valid integer"),
        ({"valueQuantity": {"value": "1.5"}}, "valueQuantity.value: not a valid decimal"),
        ({"component": [{"valueString": "x"}]}, "component[0].code: required element missing"),
        ({"extension": [{"valueString": "x"}]}, "extension[0].url: required element missing"),
        ({"meta": {"lastUpdated": "2026"}}, "meta.lastUpdated: not a valid instant"),
    ],
)
def test_the_message_names_the_element_and_what_is_wrong(
    elements: dict[str, Any], message: str
) -> None:
    with pytest.raises(UnreadableError) as caught:
        check_structure(observation(**elements), "Observation", [10_000])
    assert str(caught.value) == f"not valid FHIR R4: {message}"


def test_the_message_never_repeats_the_value() -> None:
    with pytest.raises(UnreadableError) as caught:
        check_structure(
            observation(valueString="", note=[{"text": 12345}]), "Observation", [10_000]
        )
    assert "12345" not in str(caught.value)


def test_a_missing_required_element_may_be_replaced_by_its_extension() -> None:
    reason = {"extension": [{"url": "http://hl7.org/fhir/StructureDefinition/data-absent-reason",
                             "valueCode": "unknown"}]}  # fmt: skip
    resource = observation() | {"_status": reason}
    del resource["status"]
    check_structure(resource, "Observation", [10_000])


def test_primitive_lists_line_up_with_their_extension_lists() -> None:
    patient = {
        "resourceType": "Patient",
        "name": [
            {
                "given": ["Ann", None],
                "_given": [None, {"extension": [{"url": "u", "valueCode": "x"}]}],
            }
        ],
    }  # fmt: skip
    check_structure(patient, "Patient", [10_000])


@pytest.mark.parametrize("resource_type", ["Condition", "Procedure"])
def test_a_subject_is_not_required_of_a_condition_or_procedure(resource_type: str) -> None:
    resource = {"resourceType": resource_type, "status": "completed",
                "code": {"text": "x"}}  # fmt: skip
    if resource_type == "Condition":
        del resource["status"]
    check_structure(resource, resource_type, [10_000])


def test_contained_content_is_not_walked() -> None:
    contained = observation(contained=[{"resourceType": "Medication", "foo": 1}])
    check_structure(contained, "Observation", [10_000])
    with pytest.raises(UnreadableError, match="contained\\[0\\]: not a resource"):
        check_structure(observation(contained=[{"id": "m"}]), "Observation", [10_000])


def test_an_unreportable_number_is_left_to_the_value_readers() -> None:
    check_structure(
        observation(valueQuantity={"value": HostileNumber("1e999")}), "Observation", [10_000]
    )
    check_structure(observation(valueInteger=HostileNumber("1e999")), "Observation", [10_000])


def test_the_resource_type_must_be_the_one_expected() -> None:
    with pytest.raises(UnreadableError, match="resource: not Condition"):
        check_structure(observation(), "Condition", [10_000])


def test_a_deeply_nested_resource_is_unreadable_not_a_crash() -> None:
    extension: dict[str, Any] = {"url": "u"}
    for _ in range(5_000):
        extension = {"url": "u", "extension": [extension]}
    with pytest.raises(UnreadableError, match="nested too deeply"):
        check_structure(observation(extension=[extension]), "Observation", [10_000])


def test_the_walk_stops_past_its_allowance_and_counts_what_it_visited() -> None:
    from service.mappers.structure import ElementLimitError

    resource = observation(category=[{"text": "lab"}] * 10)  # 1 + 5 + 1 + 1 + 2 + 10 + 10
    left = [30]
    check_structure(resource, "Observation", left)
    assert left == [0]
    with pytest.raises(ElementLimitError):
        check_structure(resource, "Observation", [29])


@pytest.mark.parametrize(
    "text",
    ["AAAA", "AAAA BBBB", "AAAABBBB", "  AAAA\nBBBB  ", "AA==", "AAA", "AB CD", "   ",
     "AAA!", "AAAA BBB", "AAAA" + " " * 50 + "!"],
)  # fmt: skip
def test_base64_is_checked_as_r4_says_without_its_backtracking_pattern(text: str) -> None:
    import re

    r4 = re.fullmatch(r"(\s*([0-9a-zA-Z+/=]){4}\s*)+", text) is not None
    patient = {"resourceType": "Patient", "photo": [{"data": text}]}
    if r4:
        check_structure(patient, "Patient", [10_000])
    else:
        with pytest.raises(UnreadableError) as caught:
            check_structure(patient, "Patient", [10_000])
        assert str(caught.value) == "not valid FHIR R4: photo[0].data: not a valid base64Binary"


@pytest.mark.parametrize("text", ["Le\u00a0Gall", "a\u2028b", "x\u202fy", "a\x0bb"])
def test_unicode_spaces_are_text_not_whitespace(text: str) -> None:
    patient = {"resourceType": "Patient", "name": [{"family": text}], "gender": "female"}
    check_structure(patient, "Patient", [10_000])
    coded = observation(code={"coding": [{"system": "http://x", "code": text}]})
    check_structure(coded, "Observation", [10_000])


@pytest.mark.parametrize("missing", [{}, []])
def test_an_empty_extension_object_does_not_stand_in_for_a_required_element(
    missing: dict[str, Any],
) -> None:
    resource = observation() | {"_status": missing}
    del resource["status"]
    with pytest.raises(UnreadableError, match="status: "):
        check_structure(resource, "Observation", [10_000])


def test_a_required_choice_must_be_present() -> None:
    usage = {"url": "u", "valueUsageContext": {"code": {"code": "focus"}}}
    with pytest.raises(UnreadableError, match=r"valueUsageContext.value\[x\]: required"):
        check_structure(observation(extension=[usage]), "Observation", [10_000])
    usage["valueUsageContext"]["valueCodeableConcept"] = {"text": "x"}
    check_structure(observation(extension=[usage]), "Observation", [10_000])


def test_the_fast_text_checks_answer_as_their_patterns() -> None:
    import random
    import re

    from service.mappers import structure

    alphabet = "ab-.:/ \t\r\n\x0b\x0c\u00a0\u2028\u3000é1"
    rng = random.Random(7)
    texts = ["", " ", "a", "a b", "a  b", " a", "a ", "\u3000", "http://x/y z"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 6))) for _ in range(5000)]
    r4_string = r"[ \r\n\t\S]"  # R4's patterns, as given (the string one is searched)
    r4_uri = r"[^ \t\r\n]*"  # R4's \S*, XML Schema's \S
    for text in texts:
        assert structure._string(text) == bool(re.search(r4_string, text)), repr(text)
        assert structure._code(text) == bool(re.fullmatch(structure._CODE, text)), repr(text)
        assert structure._uri(text) == bool(re.fullmatch(r4_uri, text)), repr(text)


def test_the_date_checks_answer_as_r4s_patterns_on_the_calendar() -> None:
    import random
    import re

    from service.mappers import structure

    year = r"([0-9]([0-9]([0-9][1-9]|[1-9]0)|[1-9]00)|[1-9]000)"  # R4's patterns, as given
    time = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
    zone = r"(Z|(\+|-)((0[0-9]|1[0-3]):[0-5][0-9]|14:00))"
    r4_date = rf"{year}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1]))?)?"
    r4_date_time = rf"{year}(-(0[1-9]|1[0-2])(-(0[1-9]|[1-2][0-9]|3[0-1])(T{time}{zone})?)?)?"
    r4_instant = rf"{year}-(0[1-9]|1[0-2])-(0[1-9]|[1-2][0-9]|3[0-1])T{time}{zone}"

    def r4(pattern: str, text: str) -> bool:
        return re.fullmatch(pattern, text) is not None and structure._on_calendar(text)

    rng = random.Random(11)
    pieces = ["0000", "2026", "1971", "9999", "0001", "-", "02", "13", "00", "29", "30", "31",
              "T", "10:00:00", "24:00:00", "23:59:60", ".5", "Z", "+01:00", "+14:00", "-14:30",
              "\n", " ", "1", "x"]  # fmt: skip
    texts = ["", "2026", "2026-02", "2026-02-28", "2026-02-30", "2024-02-29", "0000-01-01",
             "2026-11-22T10:00:00Z", "2026-11-22T10:00:00", "2026-11-22T10:00Z", "2026-11-22\n",
             "2026-11-22T10:00:00.123+14:00", "2026-11T10:00:00Z"]  # fmt: skip
    texts += ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 7))) for _ in range(20000)]
    dated = [t for t in texts if re.fullmatch(r4_date_time, t)]
    assert len(dated) > 300  # the random texts reach every branch, valid ones included
    for text in texts:
        assert structure._date_time(text) == r4(r4_date_time, text), repr(text)
        assert structure._date(text) == r4(r4_date, text), repr(text)
        assert structure._instant(text) == r4(r4_instant, text), repr(text)
