"""Cases on reading the record: age and partial birth dates, whose resource it is, Bundle
shapes, OperationOutcomes, contained resources, deceased patients, future dates."""

from __future__ import annotations

from typing import Any

from tests.acceptance.kit import Case, M, N, U, Warn, future, own_absolute
from tests.fixtures.fhir_builders import (
    EVALUATION_DATE,
    KI67,
    LOINC,
    UCUM,
    Resource,
    coding,
    concept,
    condition,
    days_before,
    disease_status,
    icd,
    ki67_pct,
    observation,
    patient,
    platelets,
)

LOW_GRADE_FAILS = {"low_grade": N, "well_differentiated": U, "ki67_at_most_10": N}
DECEASED = Warn(None, (("deceased",),))


def _patient(birth: str | None, **extra: Any) -> Resource:
    return patient(birth, family="Acceptance", given="Tess", gender="female", extra=extra)


def _age_case(name: str, birth: str | None, status: str, pins: str, **kw: Any) -> Case:
    return Case(name, pins, "T", (_patient(birth),), expect={"age_under_55": status}, **kw)


def _ki67_30(local_id: str, days: int, **kw: Any) -> Resource:
    return ki67_pct(local_id, days_before(days), 30, **kw)


def _contained_ki67() -> Resource:
    return {
        "resourceType": "Observation",
        "id": "k",
        "status": "final",
        "code": KI67,
        "subject": {"reference": "Patient/patient"},
        "effectiveDateTime": days_before(100),
        "valueQuantity": {"value": 30, "unit": "%", "system": UCUM, "code": "%"},
    }


def _report() -> Resource:
    """Return a pathology DiagnosticReport whose Ki-67 result is a contained Observation."""
    return {
        "resourceType": "DiagnosticReport",
        "id": "report",
        "contained": [_contained_ki67()],
        "status": "final",
        "code": concept(coding(LOINC, "60568-3", "Pathology Synoptic report")),
        "subject": {"reference": "Patient/patient"},
        "effectiveDateTime": days_before(100),
        "result": [{"reference": "#k"}],
    }


def _panel_with_contained() -> Resource:
    """Return an Observation panel (no value of its own) whose member is contained."""
    resource = observation(
        "panel",
        concept(coding(LOINC, "60568-3", "Pathology Synoptic report")),
        None,
        when=days_before(100),
        category="laboratory",
    )
    resource["contained"] = [_contained_ki67()]
    resource["hasMember"] = [{"reference": "#k"}]
    return resource


def _operation_outcome(*issues: tuple[str, str]) -> Resource:
    return {
        "resourceType": "OperationOutcome",
        "id": "oo",
        "issue": [
            {"severity": severity, "code": "incomplete", "diagnostics": text}
            for severity, text in issues
        ],
    }


def _outcome_mode(bundle: Resource) -> None:
    """Mark OperationOutcome entries of a searchset as ``search.mode: outcome``."""
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "OperationOutcome":
            entry["search"] = {"mode": "outcome"}


CASES: list[Case] = [
    _age_case(
        "age-54-day-before-birthday",
        "1971-11-23",
        M,
        '§4.1 age_under_55 "age < 55" met at 54 years 364 days; §5 ELTR note "age > 45 years"',
        notes=(("45",),),
    ),
    _age_case("age-55-on-birthday", "1971-11-22", N, '§4.1 "age ≥ 55" not_met on the birthday'),
    _age_case(
        "birth-year-straddles",
        "1971",
        U,
        '§7 "birth year 1971 evaluated on 2026-11-22 → age 54 or 55 → unknown"',
    ),
    _age_case("birth-year-decides", "1990", M, "§7 partial dates: 1990 → 35 or 36 on every day"),
    _age_case(
        "birth-month-straddles",
        "1971-11",
        U,
        '§7 "Partial dates (a year, or a year and month)": 1971-11 → 54 or 55',
    ),
    _age_case("birth-month-decides", "1971-12", M, "§7 partial dates: 1971-12 → 54 every day"),
    _age_case("birth-date-missing", None, U, "§1 no Patient.birthDate → age unknown"),
    Case(
        "deceased-boolean",
        '§7 "Deceased: Patient.deceasedBoolean true ... becomes a warning ...; the criteria are '
        'evaluated as usual" (§8)',
        "T",
        (_patient("1985-06-10", deceasedBoolean=True),),
        warnings=(DECEASED,),
    ),
    Case(
        "deceased-before-evaluation",
        '§7 "deceasedDateTime on or before the evaluation date" → warning (5 days before)',
        "T",
        (_patient("1985-06-10", deceasedDateTime=days_before(5)),),
        warnings=(DECEASED,),
    ),
    Case(
        "deceased-on-evaluation-date",
        '§7 "deceasedDateTime on or before the evaluation date" → warning (on the day)',
        "T",
        (_patient("1985-06-10", deceasedDateTime=EVALUATION_DATE.isoformat()),),
        warnings=(DECEASED,),
    ),
    Case(
        "deceased-after-evaluation-date",
        "§7 a deceasedDateTime after the evaluation date is no warning (audit of the past)",
        "T",
        (_patient("1985-06-10", deceasedDateTime=future(10)),),
    ),
    Case(
        "other-patients-left-out",
        "§7 \"A resource whose subject is another patient is not used, and the result's "
        'warnings say how many were left out"; "an absolute URL on another server is not the '
        "patient's\" (§8)",
        "T",
        (
            _ki67_30("ki67-other", 100, subject="Patient/someone-else"),
            condition(
                "bone-other",
                icd("C7B.03", "Secondary carcinoid tumors of bone"),
                onset=days_before(60),
                subject="https://other.example.org/fhir/Patient/other-patients-left-out",
            ),
        ),
        warnings=(Warn(None, (("other patient",), ("2",))),),
    ),
    Case(
        "subject-absolute-url-own-server",
        '§7 own reference: "an absolute URL whose base is the Bundle entry\'s ... base"',
        "T",
        (_ki67_30("ki67-abs", 100, subject=own_absolute("subject-absolute-url-own-server")),),
        expect=LOW_GRADE_FAILS,
    ),
    Case(
        "subject-missing-single-patient",
        '§7 "With one Patient in the Bundle, a resource without subject belongs to it"',
        "T",
        (_ki67_30("ki67-nosubj", 100, subject=None),),
        expect=LOW_GRADE_FAILS,
    ),
    Case(
        "transaction-urn-uuid-references",
        '§7 own reference: "urn:uuid: of the Patient\'s fullUrl"; interfaces §2 "any type: '
        '... transaction"',
        "T",
        (_ki67_30("ki67-new", 100),),
        expect=LOW_GRADE_FAILS,
        bundle_type="transaction",
    ),
    Case(
        "batch-bundle",
        'interfaces §2 "Reads a FHIR R4 Bundle (any type: collection, searchset, transaction, '
        'batch)"',
        "T",
        bundle_type="batch",
    ),
    Case(
        "searchset-operation-outcome",
        '§7 "OperationOutcome in the data (a searchset entry with search.mode outcome ...): '
        'each issue of severity warning, error or fatal becomes a warning ("the FHIR server '
        'reported: ...")" (information is not)',
        "T",
        (
            _operation_outcome(
                ("warning", "Some Observation results were not returned: access restricted"),
                ("information", "Search completed in 12 ms"),
            ),
        ),
        warnings=(Warn(None, (("reported",), ("not returned",))),),
        bundle_type="searchset",
        tweak=_outcome_mode,
    ),
    Case(
        "collection-operation-outcome-entry",
        '§7 "... or a Bundle entry that is an OperationOutcome": error and fatal issues each '
        "become a warning",
        "T",
        (
            _operation_outcome(
                ("error", "Condition search failed on the source system"),
                ("fatal", "Procedure repository unavailable"),
            ),
        ),
        warnings=(
            Warn(None, (("reported",), ("Condition search failed",))),
            Warn(None, (("reported",), ("Procedure repository unavailable",))),
        ),
    ),
    Case(
        "contained-ki67-in-report",
        '§7 "Observations contained in another resource are not read; when one carries a code '
        "the service reads, the result's warnings name the container\" (§8)",
        "T",
        (_report(),),
        warnings=(Warn("DiagnosticReport/contained-ki67-in-report-report", (("contained",),)),),
    ),
    Case(
        "contained-ki67-in-observation",
        '§7 contained Observations "are not read" and the container is named in a warning',
        "T",
        (_panel_with_contained(),),
        warnings=(Warn("Observation/contained-ki67-in-observation-panel", (("contained",),)),),
    ),
    Case(
        "dated-after-evaluation-ignored",
        '§3 "Observations dated after the evaluation date are ignored"; §7 "Conditions and '
        'Procedures dated after the evaluation date are ignored, like Observations" '
        "(Condition dated by recordedDate only)",
        "T",
        (
            _ki67_30("ki67-future", -10),
            disease_status("ds-future", future(5), "worsened"),
            platelets("plt-future", future(1), 60),
            condition(
                "bone-future",
                icd("C7B.03", "Secondary carcinoid tumors of bone"),
                recorded=future(3),
            ),
        ),
    ),
]
