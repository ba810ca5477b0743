"""What the probe checks on the server: its CapabilityStatement, and each search for real.

Every check ends as a :class:`Check` with a status:

- ``ok``: works as the service needs;
- ``warning``: works, but not as declared or more slowly (a code filter the server
  ignores: the service filters itself, so results stay right);
- ``fail``: the service would get wrong or missing data, or cannot work at all;
- ``skipped``: could not be tried (the detail says why).

:func:`capability_checks` is pure (the CapabilityStatement as a dict);
:func:`search_checks` makes the searches the service makes, for one sampled patient.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from service.fhir import FhirClient, FhirError
from service.fhir.errors import FhirIncompleteError
from service.fhir.queries import escape_search_value, observation_code_param
from service.mappers.codes import Terminology, codings_of

__all__ = ["Check", "capability_checks", "search_checks"]

PAGE_SIZE = 200
NEEDS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # resource type: (interactions, search parameters) the service uses
    "Patient": (("read",), ()),
    "Observation": (("search-type",), ("patient", "code", "_count")),
    "Condition": (("search-type",), ("patient", "code")),
    "Procedure": (("search-type",), ("patient",)),
    "RiskAssessment": (("read", "update"), ()),
    "Device": (("read", "update"), ()),
}
"""What the service does per type (code= on Condition is used by the probe's sampling)."""


@dataclass(frozen=True)
class Check:
    """One check: what was checked, its status, and what it means in words."""

    name: str
    status: str
    detail: str


def _server_rest(statement: Mapping[str, Any]) -> Mapping[str, Any]:
    for rest in statement.get("rest") or ():
        if isinstance(rest, dict) and rest.get("mode", "server") == "server":
            return rest
    return {}


def capability_checks(statement: Mapping[str, Any]) -> list[Check]:
    """Return what the CapabilityStatement says about each thing the service needs."""
    checks: list[Check] = []
    version = str(statement.get("fhirVersion") or "")
    checks.append(
        Check(
            "FHIR version",
            "ok" if version.startswith("4.0") else "warning",
            f"fhirVersion {version or 'not stated'} (the service reads FHIR R4, 4.0.x)",
        )
    )
    formats = [str(f) for f in statement.get("format") or ()]
    json_ok = any("json" in f for f in formats)
    checks.append(
        Check(
            "JSON format",
            "ok" if json_ok else "warning",
            f"formats {', '.join(formats) or 'not stated'}",
        )
    )
    declared = {
        r.get("type"): r
        for r in _server_rest(statement).get("resource") or ()
        if isinstance(r, dict)
    }
    for resource_type, (interactions, params) in NEEDS.items():
        entry = declared.get(resource_type)
        if entry is None:
            checks.append(
                Check(
                    f"{resource_type} declared",
                    "warning",
                    f"{resource_type} is not in the CapabilityStatement (tried anyway below)",
                )
            )
            continue
        have = {i.get("code") for i in entry.get("interaction") or () if isinstance(i, dict)}
        have_params = {p.get("name") for p in entry.get("searchParam") or () if isinstance(p, dict)}
        missing = [i for i in interactions if i not in have]
        missing += [f"search by {p}" for p in params if p not in have_params and p != "_count"]
        checks.append(
            Check(
                f"{resource_type} declared",
                "warning" if missing else "ok",
                f"not declared: {', '.join(missing)}"
                if missing
                else f"{', '.join(interactions)}"
                + (f"; search by {', '.join(p for p in params)}" if params else ""),
            )
        )
    return checks


def _ids(resources: list[dict[str, Any]]) -> list[str]:
    return [f"{r.get('resourceType')}/{r.get('id')}" for r in resources]


def _token(system: str, code: str) -> str:
    return f"{escape_search_value(system)}|{escape_search_value(code)}"


def _two_codes(
    observations: list[dict[str, Any]], terminology: Terminology
) -> list[tuple[str, str]]:
    """Pick two distinct codes present on the patient's Observations, read ones first."""
    read: list[tuple[str, str]] = []
    other: list[tuple[str, str]] = []
    for resource in observations:
        hit = terminology.observation_input(resource.get("code"))
        codes = [hit[1]] if hit is not None else list(codings_of(resource.get("code")))[:1]
        for code in codes:
            target = read if hit is not None else other
            if code not in read and code not in other:
                target.append(code)
    return (read + other)[:2]


def _carries(resource: dict[str, Any], codes: set[tuple[str, str]]) -> bool:
    return any(code in codes for code in codings_of(resource.get("code")))


def _code_checks(
    client: FhirClient,
    patient: str,
    everything: list[dict[str, Any]],
    terminology: Terminology,
) -> list[Check]:
    codes = _two_codes(everything, terminology)
    if len(codes) < 2:
        return [
            Check(
                "code= with several codes",
                "skipped",
                "the sampled patient has fewer than two distinct Observation codes",
            )
        ]
    first, second = codes
    both = client.search(
        "Observation", [("patient", patient), ("code", f"{_token(*first)},{_token(*second)}")]
    )
    one = client.search("Observation", [("patient", patient), ("code", _token(*first))])
    two = client.search("Observation", [("patient", patient), ("code", _token(*second))])
    union = set(_ids(one)) | set(_ids(two))
    got = set(_ids(both))
    named = f"{first[0]}|{first[1]} and {second[0]}|{second[1]}"
    if not union <= got:
        return [
            Check(
                "code= with several codes",
                "fail",
                f"code={named} returned {len(got)} of the {len(union)} Observations the two "
                "codes return one by one: a comma-separated code list is not read as 'or', "
                "so the service would miss results",
            )
        ]
    wanted = {first, second}
    if any(not _carries(r, wanted) for r in both):
        return [
            Check(
                "code= with several codes",
                "warning",
                f"code={named} also returned Observations with other codes: the server "
                "ignores the code filter; the service filters itself (correct, slower)",
            )
        ]
    return [
        Check(
            "code= with several codes",
            "ok",
            f"code={named}: {len(got)} Observations, the union of both codes",
        )
    ]


def _paging_checks(
    client: FhirClient, patient: str, everything: list[dict[str, Any]]
) -> list[Check]:
    if len(everything) < 2:
        return [Check("_count and paging", "skipped", "the sampled patient has < 2 Observations")]
    params = [("patient", patient), ("_count", "1")]
    first_page = next(client.search_pages("Observation", params), [])
    if len(first_page) > 1:
        count = Check(
            "_count",
            "warning",
            f"_count=1 returned {len(first_page)} Observations on the first page: _count is "
            "ignored (the service asks for 200 per page; pages may be larger or smaller)",
        )
    else:
        count = Check("_count", "ok", "_count=1 returned one Observation per page")
    expected = sorted(_ids(everything))
    try:
        paged = client.search("Observation", [("patient", patient), ("_count", "2")])
    except FhirIncompleteError as short:  # the client's own check: fewer than Bundle.total
        return [
            count,
            Check(
                "paging (next links)",
                "fail",
                f"_count=2 paging gave {short.delivered} Observations where one page gave "
                f"{len(expected)} (the server announced {short.announced}): results would be "
                "missing",
            ),
        ]
    got = sorted(_ids(paged))
    if got == expected:
        paging = Check(
            "paging (next links)",
            "ok",
            f"_count=2: {len(got)} Observations over next links, the same as one big page",
        )
    else:
        paging = Check(
            "paging (next links)",
            "fail",
            f"_count=2 paging gave {len(got)} Observations ({len(set(got))} distinct) where "
            f"one page gave {len(expected)}: results would be missing or repeated",
        )
    return [count, paging]


def _patient_filter(
    client: FhirClient, resource_type: str, patient: str
) -> tuple[Check, list[dict[str, Any]], str]:
    """Search ``resource_type`` by ``patient=<id>`` as the service does, and by the typed
    ``patient=Patient/<id>``; return the check, the results and the form that works."""
    count = ("_count", str(PAGE_SIZE))
    plain = client.search(resource_type, [("patient", patient), count])
    typed = client.search(resource_type, [("patient", f"Patient/{patient}"), count])
    name = f"{resource_type}?patient="
    if len(plain) < len(typed):
        check = Check(
            name,
            "fail",
            f"patient={{id}} found {len(plain)} {resource_type}s where patient=Patient/{{id}} "
            f"found {len(typed)}: the server needs the typed reference, but the service (like "
            "CDS Hooks prefetch templates) sends the plain id, so it would see no data",
        )
        return check, typed, f"Patient/{patient}"
    foreign = [r for r in plain if not _is_subject(r, patient)]
    if not typed:
        check = Check(
            name,
            "warning",
            f"no {resource_type}s for the patient searched, by either form: the patient "
            "filter could not be checked (probe with --patient naming one who has some)",
        )
    elif foreign:
        check = Check(
            name,
            "fail",
            f"{len(foreign)} of {len(plain)} results belong to other patients: the patient "
            "filter is ignored",
        )
    else:
        check = Check(name, "ok", f"{len(plain)} {resource_type}s, all of the patient")
    return check, plain, patient


def search_checks(client: FhirClient, patient: str, terminology: Terminology) -> list[Check]:
    """Make each search the service makes for ``patient``; return what worked.

    When the server needs ``patient=Patient/<id>``, the other checks use that form, so
    each feature is still judged on its own.
    """
    checks: list[Check] = []
    try:
        client.read("Patient", patient)
        checks.append(Check("read Patient", "ok", "Patient/{id} read"))
        check, everything, reference = _patient_filter(client, "Observation", patient)
        checks.append(check)
        codes = observation_code_param(terminology)
        params = [("patient", patient), ("_count", str(PAGE_SIZE))]
        if codes is not None:
            params.append(("code", codes))
        narrowed = client.search("Observation", params)
        read = [r for r in everything if terminology.observation_input(r.get("code"))]
        listed = f"patient= with the {codes.count(',') + 1 if codes else 0} codes the service reads"
        checks.append(
            Check(
                "the service's Observation search",
                "fail" if len(narrowed) < len(read) else "ok",
                f"{listed}: {len(narrowed)} Observations, of the {len(read)} with those codes",
            )
        )
        checks.extend(_code_checks(client, reference, everything, terminology))
        checks.extend(_paging_checks(client, reference, everything))
        for resource_type in ("Condition", "Procedure"):
            checks.append(_patient_filter(client, resource_type, patient)[0])
    except FhirError as exc:
        checks.append(Check("searches", "fail", f"{exc}"))
    return checks


def _is_subject(resource: Mapping[str, Any], patient: str) -> bool:
    subject = resource.get("subject")
    reference = subject.get("reference") if isinstance(subject, dict) else None
    return isinstance(reference, str) and (
        reference == f"Patient/{patient}" or reference.endswith(f"/Patient/{patient}")
    )
