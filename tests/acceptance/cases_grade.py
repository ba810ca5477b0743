"""Cases on tumour grade: Ki-67 thresholds, intervals, strings, grade fall-back, NEC, notes."""

from __future__ import annotations

from tests.acceptance.kit import (
    OID_LOINC,
    Case,
    Mention,
    N,
    Resource,
    U,
    Warn,
    recoded,
    unreadable_status,
)
from tests.fixtures.fhir_builders import (
    DATA_ABSENT,
    KI67,
    KI67_BREAST,
    LOINC,
    NCIT,
    ORACLE_LAB,
    UCUM,
    coding,
    concept,
    condition,
    days_before,
    grade,
    icd,
    ki67,
    ki67_pct,
    observation,
    quantity,
    sct,
    v_concept,
    v_range,
    v_string,
    v_unit_text,
)

MILAN_NOTE = ("< 10", "<10", "below 10", "under 10")
POOR_DIFFERENTIATION_NOTE = ("differentiation", "poorly differentiated")


def _grade_all(low_grade: str, well: str, ki67_10: str) -> dict[str, str]:
    return {"low_grade": low_grade, "well_differentiated": well, "ki67_at_most_10": ki67_10}


def _k(percent: object) -> tuple[Resource, ...]:
    return (ki67_pct("ki67", days_before(305), percent),)


def _q(value: object, comparator: str | None = None) -> dict[str, object]:
    result = quantity(value, "%", comparator=comparator)
    result["system"] = UCUM
    result["code"] = "%"
    return result


def _pct(value: object) -> dict[str, object]:
    return {"valueQuantity": _q(value)}


def _panel(local_id: str, when: str, ki67_value: object) -> dict[str, object]:
    """Return a final pathology panel Observation with a Ki-67 component (no own value)."""
    resource = observation(
        local_id,
        concept(coding(LOINC, "60568-3", "Pathology Synoptic report"), text="NET pathology"),
        None,
        when=when,
        category="laboratory",
    )
    resource["component"] = [
        {
            "code": concept(text="Mitotic count"),
            "valueQuantity": {"value": 2, "unit": "/2 mm2"},
        },
        {"code": KI67, "valueQuantity": _q(ki67_value)},
    ]
    return resource


CASES: list[Case] = [
    Case(
        "base-transplant",
        '§4.1-4.3 all met; §3 "Ki-67 does not go stale" (305 days); §3 resolved primary '
        '"read ... whatever its clinicalStatus"; §5 poor-differentiation note not shown',
        "T",
        no_notes=(POOR_DIFFERENTIATION_NOTE, MILAN_NOTE),
    ),
    Case(
        "base-resection",
        "§4.4 every resection criterion met (type I, resectable, FLR 35 % normal liver)",
        "R",
    ),
    Case(
        "ki67-10",
        '§4.2 ki67_at_most_10 "Ki-67 ≤ 10 %" met at exactly 10',
        "T",
        _k(10),
    ),
    Case(
        "ki67-10-1",
        '§4.2 "Ki-67 > 10 %" not_met at 10.1; §5 note "Milan-NET as given by 003 and 004 asks '
        'for Ki-67 < 10 %" shown when low_grade is met with a Ki-67 above 10 %',
        "T",
        _k(10.1),
        expect={"ki67_at_most_10": N},
        notes=(MILAN_NOTE,),
    ),
    Case(
        "ki67-20",
        '§4.1 low_grade "Ki-67 ≤ 20 %" met at exactly 20; §4.4 well_differentiated met',
        "T",
        _k(20),
        expect={"ki67_at_most_10": N},
        notes=(MILAN_NOTE,),
    ),
    Case(
        "ki67-20-1-g3",
        '§4.1 "Ki-67 > 20 %" not_met (Milan, UNOS low_grade, §8 new in UNOS); §7 '
        '"Ki-67 > 20 % or G3 → unknown" for well_differentiated (§8); §5 poor differentiation',
        "T",
        _k(20.1),
        expect=_grade_all(N, U, N),
        notes=(POOR_DIFFERENTIATION_NOTE,),
        mentions=(Mention("well_differentiated", ("MDT", "G3")),),
    ),
    Case(
        "ki67-21-percent-text",
        '§3 "percent" is a known spelling of %; Ki-67 21 → low_grade not_met, '
        "well_differentiated unknown",
        "T",
        (ki67("ki67", days_before(305), v_unit_text(21, "percent")),),
        expect=_grade_all(N, U, N),
    ),
    Case(
        "ki67-comparator-below-1",
        '§3 "A Ki-67 of "<1 %" decides "≤ 10 %" as met" (Quantity comparator)',
        "T",
        (ki67("ki67", days_before(305), {"valueQuantity": _q(1, "<")}),),
    ),
    Case(
        "ki67-comparator-above-15-grade-g2",
        '§7 "when ... [Ki-67] cannot decide (straddles the threshold ...), the most recent '
        'grade Observation decides"; ">15 %" is not_met for ≤ 10 %',
        "T",
        (
            ki67("ki67", days_before(305), {"valueQuantity": _q(15, ">")}),
            grade("grade", days_before(305), v_string("G2")),
        ),
        expect={"ki67_at_most_10": N},
    ),
    Case(
        "ki67-comparator-above-15-no-grade",
        '§3 "decided only if the whole interval lies on one side of its threshold, otherwise '
        'unknown"',
        "T",
        (ki67("ki67", days_before(305), {"valueQuantity": _q(15, ">")}),),
        expect=_grade_all(U, U, N),
    ),
    Case(
        "ki67-range-5-15",
        "§3 valueRange 5-15 % straddles 10 (unknown) and lies below 20 (met)",
        "T",
        (ki67("ki67", days_before(305), v_range(5, 15)),),
        expect={"ki67_at_most_10": U},
    ),
    Case(
        "ki67-string-below-2",
        '§3 "A valueString such as ... "<2 %" ... is parsed the same way"',
        "T",
        (ki67("ki67", days_before(305), v_string("<2 %")),),
    ),
    Case(
        "ki67-string-range-5-10",
        '§7 valueString "a range `a-b unit`": "5-10%" lies at or below 10',
        "T",
        (ki67("ki67", days_before(305), v_string("5-10%")),),
    ),
    Case(
        "ki67-string-decimal-comma",
        '§7 valueString: "Anything else (extra words, decimal comma) → unknown"; §7 readable '
        'but not interpretable "→ ... unknown, with a warning; no fall-back to older data"',
        "T",
        (
            ki67_pct("ki67-old", days_before(400), 5),
            ki67("ki67", days_before(305), v_string("7,5 %")),
        ),
        expect=_grade_all(U, U, U),
        warnings=(Warn("Observation/ki67-string-decimal-comma-ki67"),),
    ),
    Case(
        "ki67-string-plain",
        '§3 "A valueString such as "15%" ... is parsed the same way when it is unambiguous"',
        "T",
        (ki67("ki67", days_before(305), v_string("15%")),),
        expect={"ki67_at_most_10": N},
    ),
    Case(
        "ki67-string-extra-words",
        '§7 valueString "Anything else (extra words ...) → unknown" ("about 5 %", no grade)',
        "T",
        (ki67("ki67", days_before(305), v_string("about 5 %")),),
        expect=_grade_all(U, U, U),
        warnings=(Warn("Observation/ki67-string-extra-words-ki67"),),
    ),
    Case(
        "ki67-unknown-unit-grade-g2",
        '§7 readable-not-interpretable "no fall-back to older data" (older Ki-67 5 % unused) '
        'but "unknown unit → the most recent grade Observation decides"; §3 "unrecognised '
        "unit 'foo'\"",
        "T",
        (
            ki67_pct("ki67-old", days_before(400), 5),
            ki67("ki67", days_before(305), v_unit_text(12, "foo")),
            grade("grade", days_before(305), v_string("G2")),
        ),
        expect={"ki67_at_most_10": U},
        warnings=(
            Warn(
                "Observation/ki67-unknown-unit-grade-g2-ki67",
                (("unrecognised unit", "unrecognized unit"),),
            ),
        ),
    ),
    Case(
        "ki67-bare-number",
        '§7 "A bare number with no unit is never assumed to be % or anything else"',
        "T",
        (ki67("ki67", days_before(305), {"valueQuantity": {"value": 5}}),),
        expect=_grade_all(U, U, U),
        warnings=(Warn("Observation/ki67-bare-number-ki67"),),
    ),
    Case(
        "grade-g3-only",
        '§7 "low_grade (transplant) keeps G3 → not_met"; well_differentiated G3 → unknown; '
        '"ki67_at_most_10 uses Ki-67 and neuroendocrine carcinoma only"',
        "T",
        (grade("grade", days_before(305), v_string("G3")),),
        drop=("ki67",),
        expect=_grade_all(N, U, U),
        notes=(POOR_DIFFERENTIATION_NOTE,),
    ),
    Case(
        "grade-snomed-high",
        "terminology: grade SNOMED 1155707008 high → G3 (no Ki-67)",
        "T",
        (grade("grade", days_before(305), v_concept(sct("1155707008", "High grade"))),),
        drop=("ki67",),
        expect=_grade_all(N, U, U),
    ),
    Case(
        "grade-ncit-g2-string",
        'terminology: grade by NCIt C18000 with valueString "G2" (no Ki-67)',
        "T",
        (
            grade(
                "grade",
                days_before(305),
                v_string("G2"),
                code=concept(coding(NCIT, "C18000", "Histologic Grade")),
            ),
        ),
        drop=("ki67",),
        expect={"ki67_at_most_10": U},
    ),
    Case(
        "ki67-wins-over-grade-g3",
        '§7 "Ki-67 wins over a disagreeing grade" (Ki-67 8 %, newer grade G3)',
        "T",
        (
            ki67_pct("ki67", days_before(305), 8),
            grade("grade", days_before(200), v_concept(concept(text="G3"))),
        ),
    ),
    Case(
        "nec-active",
        '§7 "a neuroendocrine carcinoma Condition decides not_met first" (Ki-67 5 %); §8 NEC '
        "stays not_met for resection; UNOS low_grade",
        "T",
        (
            condition(
                "nec",
                icd("C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
                onset=days_before(420),
            ),
        ),
        expect=_grade_all(N, N, N),
        notes=(POOR_DIFFERENTIATION_NOTE,),
    ),
    Case(
        "nec-resolved",
        '§3 "histology (NET vs neuroendocrine carcinoma) ... read ... whatever its clinicalStatus"',
        "T",
        (
            condition(
                "nec",
                icd("C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
                clinical="resolved",
                onset=days_before(420),
            ),
        ),
        expect=_grade_all(N, N, N),
    ),
    Case(
        "nec-unreadable-status",
        '§3 histology is read "whatever its clinicalStatus" vs §7 an unreadable exclusion '
        "Condition (NEC listed) → unknown: a text-only clinicalStatus does not matter for NEC",
        "T",
        (
            unreadable_status(
                condition(
                    "nec",
                    icd("C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
                    onset=days_before(420),
                )
            ),
        ),
        expect=_grade_all(N, N, N),
        exact_warnings=False,
    ),
    Case(
        "nec-refuted",
        '§3 "as long as it is not refuted or entered-in-error": a refuted NEC is ignored',
        "T",
        (
            condition(
                "nec",
                icd("C7A.1", "Malignant poorly differentiated neuroendocrine tumors"),
                verification="refuted",
                onset=days_before(420),
            ),
        ),
    ),
    Case(
        "ki67-breast-code-alone",
        'terminology: 85330-9 "used only when no usable 29593-1 result exists"',
        "T",
        (ki67("ki67", days_before(305), _pct(8), code=KI67_BREAST),),
    ),
    Case(
        "ki67-breast-code-loses",
        "terminology: a newer 85330-9 (30 %) is not used beside a usable 29593-1 (5 %)",
        "T",
        (ki67("ki67-breast", days_before(100), _pct(30), code=KI67_BREAST),),
    ),
    Case(
        "ki67-component-of-panel",
        '§7 "an Observation (of any code, e.g. a pathology panel) whose component carries a '
        "Ki-67 code is a Ki-67 result ... the evidence names the parent and says "
        '"component""; §8',
        "T",
        (_panel("panel", days_before(100), 30),),
        expect=_grade_all(N, U, N),
        mentions=(Mention("low_grade", ("component",)),),
        evidence=(("low_grade", "Observation/ki67-component-of-panel-panel"),),
    ),
    Case(
        "ki67-component-older-than-top-level",
        '§3 "the most recent wins": a newer top-level Ki-67 5 % beats an older component 30 %',
        "T",
        (_panel("panel", days_before(400), 30),),
    ),
    Case(
        "ki67-preliminary-and-entered-in-error",
        '§3 "preliminary ... entered-in-error ... are ignored" (newer Ki-67 30 % in both)',
        "T",
        (
            ki67_pct("ki67-prelim", days_before(100), 30, status="preliminary"),
            ki67_pct("ki67-eie", days_before(90), 30, status="entered-in-error"),
        ),
    ),
    Case(
        "ki67-corrected",
        '§3 "Observation is usable only with status in final, amended, corrected" (newer '
        "corrected Ki-67 30 %)",
        "T",
        (ki67_pct("ki67-corr", days_before(100), 30, status="corrected"),),
        expect=_grade_all(N, U, N),
    ),
    Case(
        "ki67-tie-last-updated",
        '§7 "Ties on the date: the later meta.lastUpdated wins, then the greater id"',
        "T",
        (
            ki67_pct("ki-a", days_before(305), 30, last_updated="2026-01-20T10:00:00Z"),
            ki67_pct("ki-b", days_before(305), 5, last_updated="2026-01-19T10:00:00Z"),
        ),
        drop=("ki67",),
        expect=_grade_all(N, U, N),
    ),
    Case(
        "ki67-tie-id",
        '§7 ties "then the greater id (string order)" (no lastUpdated)',
        "T",
        (
            ki67_pct("ki-a", days_before(305), 5),
            ki67_pct("ki-b", days_before(305), 30),
        ),
        drop=("ki67",),
        expect=_grade_all(N, U, N),
    ),
    Case(
        "ki67-unreadable-value",
        '§7 "Unreadable (... valueQuantity.value: "abc" ...) → ... skipped as if absent, '
        'reported in warnings, and an older usable result takes its place"',
        "T",
        (ki67("ki67-bad", days_before(100), {"valueQuantity": _q("abc")}),),
        warnings=(Warn("Observation/ki67-unreadable-value-ki67-bad"),),
    ),
    Case(
        "ki67-missing-status",
        '§7 unreadable: "a missing status" → skipped, warned, the older result decides',
        "T",
        (ki67_pct("ki67-nostatus", days_before(100), 30, status=None),),
        warnings=(Warn("Observation/ki67-missing-status-ki67-nostatus"),),
    ),
    Case(
        "ki67-without-value",
        '§7 "Observations without any value[x] are not results" (newer, dataAbsentReason)',
        "T",
        (
            observation(
                "ki67-empty",
                KI67,
                {"dataAbsentReason": concept(coding(DATA_ABSENT, "not-performed"))},
                when=days_before(100),
                category="laboratory",
            ),
        ),
        exact_warnings=False,
    ),
    Case(
        "ki67-undated-ranks-oldest",
        '§7 "Undated results rank oldest" (undated 30 % vs dated 5 %)',
        "T",
        (ki67_pct("ki67-undated", None, 30),),
        exact_warnings=False,
    ),
    Case(
        "ki67-effective-instant",
        '§3 date "else effectiveInstant": a newer Ki-67 dated only by effectiveInstant wins',
        "T",
        (ki67("ki67-instant", None, _pct(30), instant=days_before(100) + "T09:00:00Z"),),
        expect=_grade_all(N, U, N),
    ),
    Case(
        "ki67-oracle-coding",
        "terminology: Oracle Health proprietary coding first, LOINC second without display",
        "T",
        (
            recoded(
                ki67_pct("ki67", days_before(305), 15),
                coding(ORACLE_LAB, "2800112"),
                coding(LOINC, "29593-1"),
            ),
        ),
        expect={"ki67_at_most_10": N},
        notes=(MILAN_NOTE,),
    ),
    Case(
        "ki67-loinc-oid",
        "terminology v1.1: LOINC as urn:oid:2.16.840.1.113883.6.1 (§8)",
        "T",
        (recoded(ki67_pct("ki67", days_before(305), 15), coding(OID_LOINC, "29593-1")),),
        expect={"ki67_at_most_10": N},
    ),
    Case(
        "her2-is-not-ki67",
        'terminology: "85319-2 is HER2, not Ki-67" (newer, 30 %)',
        "T",
        (ki67_pct("her2", days_before(100), 30, code=concept(coding(LOINC, "85319-2"))),),
    ),
]
