"""Cases on bilirubin and platelets: limits, units, reference ranges, freshness, dates."""

from __future__ import annotations

from tests.acceptance.kit import OID_LOINC, Case, M, Mention, N, Resource, U, Warn, recoded
from tests.fixtures.fhir_builders import (
    BILIRUBIN_MASS,
    BILIRUBIN_MOLES,
    LOINC,
    ORACLE_LAB,
    bilirubin_mg,
    bilirubin_umol,
    coding,
    concept,
    days_before,
    lab,
    platelets,
    quantity,
    reference_range,
    v_quantity,
    v_unit_text,
)

BILIRUBIN_BLOOD_MASS = concept(coding(LOINC, "42719-5"))
BILIRUBIN_BLOOD_MOLES = concept(coding(LOINC, "54363-7"))

# terminology.md, platelet count units: every spelling, sent as free text (no UCUM code),
# with its factor to 10*9/L. "/uL", "/mm3", "/mcL" are per microlitre (÷ 1000).
PLATELET_SPELLINGS: tuple[tuple[str, str, int], ...] = (
    ("10*3/uL", "ucum-10e3-ul", 1),
    ("10*9/L", "ucum-10e9-l", 1),
    ("K/uL", "k-ul", 1),
    ("x10(3)/mcL", "x10-3-mcl", 1),
    ("10^3/uL", "caret-10-3-ul", 1),
    ("thou/mm3", "thou-mm3", 1),
    ("G/L", "g-l", 1),
    ("10^3/mm3", "caret-10-3-mm3", 1),
    ("10*3/mm3", "star-10-3-mm3", 1),
    ("x10^3/uL", "x10-caret-3-ul", 1),
    ("x10E3/uL", "x10e3-ul", 1),
    ("10^9/L", "caret-10-9-l", 1),
    ("x10^9/L", "x10-caret-9-l", 1),
    ("x10E9/L", "x10e9-l", 1),
    ("10E9/L", "10e9-l", 1),
    ("x10(9)/L", "x10-9-l", 1),
    ("/uL", "per-ul", 1000),
    ("/mm3", "per-mm3", 1000),
    ("/mcL", "per-mcl", 1000),
)
V11_SPELLINGS = {
    "10^3/mm3",
    "10*3/mm3",
    "x10^3/uL",
    "x10E3/uL",
    "10^9/L",
    "x10^9/L",
    "x10E9/L",
    "10E9/L",
    "x10(9)/L",
}


def _bili(expect: str) -> dict[str, str]:
    return {"low_bilirubin": expect}


def _plt(expect: str) -> dict[str, str]:
    return {"no_portal_hypertension": expect}


def _bili_obs(value: dict[str, object], **kw: object) -> Resource:
    when = kw.pop("when", days_before(20))
    code = kw.pop("code", BILIRUBIN_MASS)
    return lab("bili", code, when, value, **kw)  # type: ignore[arg-type]


def _platelet_cases() -> list[Case]:
    cases = []
    for spelling, slug, factor in PLATELET_SPELLINGS:
        tag = " (v1.1 spelling, §8)" if spelling in V11_SPELLINGS else ""
        for count, status in ((99, N), (100, M)):
            value = count * factor
            cases.append(
                Case(
                    f"platelets-{slug}-{count}",
                    f'terminology: platelet unit "{spelling}" (free text) = {value} {spelling} '
                    f'→ {count} x10^9/L{tag}; §4.4 "platelets < 100 × 10⁹/L" not_met, "≥ 100" met',
                    "T",
                    (platelets("plt", days_before(20), None, value=v_unit_text(value, spelling)),),
                    expect=_plt(status),
                )
            )
    return cases


CASES: list[Case] = [
    Case(
        "bilirubin-1-2-default-limit",
        '§4.2 low_bilirubin "≤ upper limit of normal ... else 1.2 mg/dL (configurable default)"',
        "T",
        (bilirubin_mg("bili", days_before(20), 1.2),),
    ),
    Case(
        "bilirubin-1-21",
        '§4.2 low_bilirubin "above it" → not_met (1.21 mg/dL, no referenceRange)',
        "T",
        (bilirubin_mg("bili", days_before(20), 1.21),),
        expect=_bili(N),
    ),
    Case(
        "bilirubin-umol-20-5248",
        '§7 "20.5248 µmol/L is exactly 1.2 mg/dL" (decimal arithmetic) → met',
        "T",
        (bilirubin_umol("bili", days_before(20), 20.5248),),
    ),
    Case(
        "bilirubin-umol-20-53",
        "§3 1 mg/dL = 17.104 µmol/L: 20.53 µmol/L is above 1.2 mg/dL → not_met",
        "T",
        (bilirubin_umol("bili", days_before(20), 20.53),),
        expect=_bili(N),
    ),
    Case(
        "bilirubin-at-reference-high",
        '§4.2 "the Observation\'s referenceRange.high when present": 1.5 ≤ high 1.5 → met',
        "T",
        (bilirubin_mg("bili", days_before(20), 1.5, reference_range=[reference_range(0.1, 1.5)]),),
    ),
    Case(
        "bilirubin-above-lower-reference-high",
        "§4.2 referenceRange.high 0.9 beats the 1.2 default: 1.0 → not_met",
        "T",
        (bilirubin_mg("bili", days_before(20), 1.0, reference_range=[reference_range(0.1, 0.9)]),),
        expect=_bili(N),
    ),
    Case(
        "bilirubin-reference-high-in-umol",
        '§7 "the high ... normalised like the value": 1.3 mg/dL vs high 25.6 µmol/L (1.497)',
        "T",
        (
            bilirubin_mg(
                "bili", days_before(20), 1.3, reference_range=[reference_range(3.4, 25.6, "umol/L")]
            ),
        ),
    ),
    Case(
        "bilirubin-first-range-with-high",
        '§7 "the high of the first referenceRange that has one" (first has only low): '
        "1.1 > 1.0 → not_met",
        "T",
        (
            bilirubin_mg(
                "bili",
                days_before(20),
                1.1,
                reference_range=[reference_range(0.1), reference_range(high=1.0)],
            ),
        ),
        expect=_bili(N),
    ),
    Case(
        "bilirubin-reference-high-bad-unit",
        '§7 "an unrecognised unit there → unknown (the 1.2 mg/dL default applies only when no '
        'range gives a high)"',
        "T",
        (
            bilirubin_mg(
                "bili",
                days_before(20),
                0.5,
                reference_range=[{"high": {"value": 1.0, "unit": "foo"}}],
            ),
        ),
        expect=_bili(U),
        warnings=(Warn("Observation/bilirubin-reference-high-bad-unit-bili", (("unit",),)),),
    ),
    Case(
        "bilirubin-stale-91-days-high",
        '§7 "Stale labs give unknown in both directions": 5.0 mg/dL 91 days old → unknown',
        "T",
        (bilirubin_mg("bili", days_before(91), 5.0),),
        expect=_bili(U),
        mentions=(Mention("low_bilirubin", ("90",)),),
    ),
    Case(
        "bilirubin-fresh-90-days",
        '§7 "Fresh means at most 90 days old (exactly 90 is fresh)": 1.2 mg/dL → met',
        "T",
        (bilirubin_mg("bili", days_before(90), 1.2),),
    ),
    Case(
        "bilirubin-ucum-code-wrong-case",
        '§7 "UCUM codes are case-sensitive; when a Quantity has a UCUM code, the code alone '
        'decides (an unrecognised code → unknown)": code "MG/DL" is no UCUM code',
        "T",
        (_bili_obs({"valueQuantity": quantity(0.6, "MG/DL", code="MG/DL")}),),
        expect=_bili(U),
        warnings=(Warn("Observation/bilirubin-ucum-code-wrong-case-bili", (("unit",),)),),
    ),
    Case(
        "bilirubin-ucum-code-lower-case-litre",
        '§7 "UCUM codes are case-sensitive": UCUM defines the litre as both "l" and "L", '
        'so code "mg/dl" is the valid case-sensitive UCUM code for mg/dL → met',
        "T",
        (_bili_obs({"valueQuantity": quantity(0.6, "mg/dl", code="mg/dl")}),),
    ),
    Case(
        "bilirubin-text-mg-dl-lower",
        '§7 "Free-text unit spellings are matched case-insensitively": "mg/dl" text, 42719-5',
        "T",
        (_bili_obs(v_unit_text(1.2, "mg/dl"), code=BILIRUBIN_BLOOD_MASS),),
    ),
    Case(
        "bilirubin-text-micro-sign",
        'terminology "µmol/L" (micro sign) as free text, 54363-7: 20.5248 → 1.2 mg/dL → met',
        "T",
        (_bili_obs(v_unit_text(20.5248, "µmol/L"), code=BILIRUBIN_BLOOD_MOLES),),
    ),
    Case(
        "bilirubin-text-greek-mu",
        'terminology "μmol/L" (Greek mu) as free text: 20.53 → above 1.2 mg/dL → not_met',
        "T",
        (_bili_obs(v_unit_text(20.53, "μmol/L"), code=BILIRUBIN_MOLES),),
        expect=_bili(N),
    ),
    Case(
        "bilirubin-partial-month-fresh",
        '§7 "Partial dates ... stand for every day they could be": 2026-09 is 53-82 days old',
        "T",
        (bilirubin_mg("bili", "2026-09", 0.6),),
    ),
    Case(
        "bilirubin-partial-month-straddles",
        "§7 partial dates: 2026-08 is 83-113 days old, fresh on some days only → unknown",
        "T",
        (bilirubin_mg("bili", "2026-08", 0.6),),
        expect=_bili(U),
    ),
    Case(
        "bilirubin-undated",
        '§7 "an undated bilirubin or platelet count cannot be shown fresh"',
        "T",
        (bilirubin_mg("bili", None, 0.6),),
        expect=_bili(U),
        exact_warnings=False,
    ),
    Case(
        "bilirubin-dated-by-issued",
        '§3 "The date of a resource: ... else issued" (fresh by issued)',
        "T",
        (bilirubin_mg("bili", None, 0.6, issued=days_before(10) + "T08:00:00Z"),),
    ),
    Case(
        "bilirubin-dated-by-period-end",
        '§3 "else effectivePeriod.end": start 100 days, end 85 days → fresh',
        "T",
        (bilirubin_mg("bili", None, 0.6, period=(days_before(100), days_before(85))),),
    ),
    Case(
        "platelets-stale-91-days-low",
        '§7 "a stale platelet count of 60 is unknown, not not_met"',
        "T",
        (platelets("plt", days_before(91), 60),),
        expect=_plt(U),
        mentions=(Mention("no_portal_hypertension", ("90",)),),
    ),
    Case(
        "platelets-fresh-90-days-99",
        "§7 exactly 90 days is fresh: 99 → not_met",
        "T",
        (platelets("plt", days_before(90), 99),),
        expect=_plt(N),
    ),
    Case(
        "platelets-unit-text-lower-case",
        '§7 free-text units "matched case-insensitively": "k/ul" 99 → not_met',
        "T",
        (platelets("plt", days_before(20), None, value=v_unit_text(99, "k/ul")),),
        expect=_plt(N),
    ),
    Case(
        "platelets-ucum-10e9-per-l",
        "§3 UCUM code 10*9/L wins over its free-text unit: 99 → not_met",
        "T",
        (
            platelets(
                "plt",
                days_before(20),
                None,
                value={"valueQuantity": quantity(99, "x10^9/L", code="10*9/L")},
            ),
        ),
        expect=_plt(N),
    ),
    Case(
        "platelets-26515-7-loinc-oid",
        "terminology: platelets 26515-7 with LOINC as its OID (§8) → 99 not_met",
        "T",
        (recoded(platelets("plt", days_before(20), 99), coding(OID_LOINC, "26515-7")),),
        expect=_plt(N),
    ),
    Case(
        "platelets-oracle-coding",
        "terminology: proprietary coding first, LOINC 777-3 second without display: 90",
        "T",
        (
            recoded(
                platelets("plt", days_before(20), 90),
                coding(ORACLE_LAB, "2700098"),
                coding(LOINC, "777-3"),
            ),
        ),
        expect=_plt(N),
    ),
    Case(
        "platelets-plasma-code-ignored",
        'terminology: "13056-7 and 26516-5 are platelets in plasma and are not counts in '
        'blood" (newer 50 and 60 ignored; 220 decides)',
        "T",
        (
            lab(
                "plt-plasma",
                concept(coding(LOINC, "13056-7")),
                days_before(5),
                v_quantity(50, "10*3/uL"),
            ),
            lab(
                "plt-plasma2",
                concept(coding(LOINC, "26516-5")),
                days_before(4),
                v_quantity(60, "10*3/uL"),
            ),
        ),
    ),
    *_platelet_cases(),
]
