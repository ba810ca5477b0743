"""Cases on the primary tumour: portal drainage, which Procedure resects it, and when."""

from __future__ import annotations

from tests.acceptance.kit import OID_ICD10CM, OID_SNOMED, Case, Mention, N, U, future, recoded
from tests.fixtures.fhir_builders import (
    ICD10CM,
    assessment,
    coding,
    condition,
    days_before,
    icd,
    procedure,
    sct,
    v_bool,
)

FRENCH_NOTE = ("French", "exenteration")

UNRESECTED = {
    "primary_resected": U,
    "primary_resected_6_months": U,
    "primary_resected_or_resectable": U,
}


def _primary(code: str, display: str, **kw: object) -> dict[str, object]:
    kw.setdefault("clinical", "resolved")
    kw.setdefault("onset", days_before(420))
    return condition("primary", icd(code, display), **kw)  # type: ignore[arg-type]


def _resection(code: str, display: str, *, reason: str | None = None, **kw: object):
    kw.setdefault("performed", days_before(300))
    return procedure("resection", sct(code, display), reason=reason, **kw)  # type: ignore[arg-type]


SMALL_BOWEL = ("107938000", "Excision of small intestine")
WHIPPLE = ("116241004", "Pancreaticoduodenectomy")
LOBECTOMY = ("173171007", "Lobectomy of lung")

CASES: list[Case] = [
    Case(
        "primary-rectum",
        '§4.1 portal_drained_primary not_met: "primary in ... rectum" (C7A.026)',
        "T",
        (_primary("C7A.026", "Malignant carcinoid tumor of the rectum"),),
        expect={"portal_drained_primary": N},
    ),
    Case(
        "primary-pancreas-whipple",
        "terminology: pancreaticoduodenectomy resects a pancreatic primary (C25.4, organ "
        'fits); §5 French study note "duodenal or pancreatic primary"',
        "T",
        (
            _primary("C25.4", "Malignant neoplasm of endocrine pancreas"),
            _resection(*WHIPPLE),
        ),
        notes=(FRENCH_NOTE,),
    ),
    Case(
        "primary-small-intestine-unspecified",
        'terminology: portal-drained "C7A.010–C7A.019" includes C7A.019',
        "T",
        (_primary("C7A.019", "Malignant carcinoid tumor of the small intestine, unspecified"),),
    ),
    Case(
        "primary-site-unspecified",
        '§4.1 "a site code that does not say where (unspecified ...) is unknown" (C7A.00); '
        "its resection (reasonReference) still counts",
        "T",
        (_primary("C7A.00", "Malignant carcinoid tumor of unspecified site"),),
        expect={"portal_drained_primary": U},
    ),
    Case(
        "primary-snomed-carcinoid-site-not-given",
        "terminology: SNOMED 443492008 carcinoid tumour (site not given) → unknown",
        "T",
        (
            condition(
                "primary",
                sct("443492008", "Carcinoid tumor"),
                clinical="resolved",
                onset=days_before(420),
            ),
        ),
        expect={"portal_drained_primary": U},
    ),
    Case(
        "primary-determinable-beats-not-determinable",
        '§7 "a site that says where (portal / not portal) beats "site not determinable"" '
        "(newer SNOMED 445238008 beside the older ileal C7A.012)",
        "T",
        (
            condition(
                "carcinoid", sct("445238008", "Malignant carcinoid tumor"), onset=days_before(100)
            ),
        ),
    ),
    Case(
        "primary-unknown-origin",
        'terminology: 285613005 (metastasis of unknown primary) is "not portal-drained"; no '
        "resection recorded → the resection criteria are unknown",
        "T",
        (
            condition(
                "mup",
                sct("285613005", "Metastasis to liver from unknown primary"),
                onset=days_before(420),
            ),
        ),
        drop=("primary", "resection"),
        expect={"portal_drained_primary": N, **UNRESECTED},
    ),
    Case(
        "primaries-agree",
        '§7 "When the sites that say where agree, the most recent is the evidence" (ileum, '
        "jejunum)",
        "T",
        (
            condition(
                "primary-2",
                icd("C7A.011", "Malignant carcinoid tumor of the jejunum"),
                onset=days_before(200),
            ),
        ),
        evidence=(("portal_drained_primary", "Condition/primaries-agree-primary-2"),),
    ),
    Case(
        "primaries-disagree",
        '§7 "When they disagree (a portal-drained and a not-portal-drained primary ...), '
        'portal_drained_primary is unknown: the reason names both"; §8 "a second primary is '
        'not a correction"',
        "T",
        (
            condition(
                "bronchus",
                icd("C7A.090", "Malignant carcinoid tumor of the bronchus and lung"),
                onset=days_before(500),
            ),
        ),
        expect={"portal_drained_primary": U},
        mentions=(
            Mention("portal_drained_primary", ("Condition/primaries-disagree-bronchus",)),
            Mention("portal_drained_primary", ("Condition/primaries-disagree-primary",)),
            Mention("portal_drained_primary", ("MDT",)),
        ),
    ),
    Case(
        "primaries-disagree-one-refuted",
        '§7 disagreement counts only primaries "neither refuted nor entered-in-error"',
        "T",
        (
            condition(
                "bronchus",
                icd("C7A.090", "Malignant carcinoid tumor of the bronchus and lung"),
                verification="refuted",
                onset=days_before(500),
            ),
        ),
    ),
    Case(
        "primary-icd-dotless-lower-case",
        'terminology v1.1: "ICD-10-CM codes match with or without the dot and in either case" '
        '("c7a012")',
        "T",
        (recoded(_primary("C7A.012", "x"), coding(ICD10CM, "c7a012")),),
    ),
    Case(
        "primary-icd-oid",
        "terminology v1.1: ICD-10-CM as urn:oid:2.16.840.1.113883.6.90 (C7A.012)",
        "T",
        (recoded(_primary("C7A.012", "x"), coding(OID_ICD10CM, "C7A.012")),),
    ),
    Case(
        "primary-snomed-oid-pancreas",
        "terminology v1.1: SNOMED CT as urn:oid:2.16.840.1.113883.6.96 (93843007 pancreas)",
        "T",
        (recoded(_primary("C25.4", "x"), coding(OID_SNOMED, "93843007")),),
        notes=(FRENCH_NOTE,),
    ),
    Case(
        "lobectomy-lung-primary",
        'terminology v1.1: lobectomy "organ: lung/bronchus: C7A.090" resects a bronchial '
        "primary (no reasonReference); a lung primary is not portal-drained",
        "T",
        (
            _primary("C7A.090", "Malignant carcinoid tumor of the bronchus and lung"),
            _resection(*LOBECTOMY),
        ),
        expect={"portal_drained_primary": N},
    ),
    Case(
        "lobectomy-ileal-primary",
        '§7 a primary-resection code counts only when "its organ holds a recorded primary '
        'site": a lobectomy is not the resection of an ileal primary (§8)',
        "T",
        (_resection(*LOBECTOMY),),
        expect=UNRESECTED,
    ),
    Case(
        "lobectomy-for-lung-metastasis",
        '§7 "a lung metastasectomy coded as lobectomy is not the resection of an ileal '
        'primary" (reasonReference → C78.00); §7 resolved extrahepatic Conditions "are history"',
        "T",
        (
            condition(
                "lungmet",
                icd("C78.00", "Secondary malignant neoplasm of unspecified lung"),
                clinical="resolved",
                onset=days_before(360),
            ),
            _resection(*LOBECTOMY, reason="Condition/lungmet"),
        ),
        expect=UNRESECTED,
    ),
    Case(
        "whipple-ileal-primary",
        "terminology v1.1: pancreaticoduodenectomy (organ pancreas or duodenum) does not fit an "
        "ileal primary (C7A.012)",
        "T",
        (_resection(*WHIPPLE),),
        expect=UNRESECTED,
    ),
    Case(
        "small-bowel-excision-by-code",
        "terminology: excision of small intestine fits an ileal primary without reasonReference",
        "T",
        (_resection(*SMALL_BOWEL),),
    ),
    Case(
        "resection-code-without-primary-site",
        '§7 a primary-resection code counts when "no primary site is recorded"; no site → '
        "portal_drained_primary unknown",
        "T",
        (_resection(*SMALL_BOWEL),),
        drop=("primary",),
        expect={"portal_drained_primary": U},
    ),
    Case(
        "resection-not-done-assessments",
        '§3 "Procedure counts when status is completed"; §7 "primary-resected = false does not '
        'decide by itself (then primary-resectable decides)"; §4.2 "assessment "not resected"" '
        "→ not_met",
        "T",
        (
            _resection(*SMALL_BOWEL, reason="Condition/primary", status="not-done"),
            assessment("resected", "primary-resected", days_before(30), v_bool(False)),
            assessment("resectable", "primary-resectable", days_before(30), v_bool(True)),
        ),
        expect={"primary_resected": N, "primary_resected_6_months": N},
    ),
    Case(
        "primary-not-resectable",
        '§4.4 primary_resected_or_resectable not_met: "assessment "primary not resectable""',
        "T",
        (
            assessment("resected", "primary-resected", days_before(30), v_bool(False)),
            assessment("resectable", "primary-resectable", days_before(30), v_bool(False)),
        ),
        drop=("resection",),
        expect={
            "primary_resected": N,
            "primary_resected_6_months": N,
            "primary_resected_or_resectable": N,
        },
    ),
    Case(
        "primary-resectable-only",
        '§4.4 primary_resected_or_resectable met by "assessment "resectable""; nothing decides '
        "primary_resected",
        "T",
        (assessment("resectable", "primary-resectable", days_before(30), v_bool(True)),),
        drop=("resection",),
        expect={"primary_resected": U, "primary_resected_6_months": U},
    ),
    Case(
        "primary-resected-assessment-182-days",
        '§7 "with only a primary-resected = true assessment, an assessment at least 182 days '
        'old proves it (met)"',
        "T",
        (assessment("resected", "primary-resected", days_before(182), v_bool(True)),),
        drop=("resection",),
    ),
    Case(
        "primary-resected-assessment-181-days",
        '§7 "... a younger one leaves it unknown" (181 days)',
        "T",
        (assessment("resected", "primary-resected", days_before(181), v_bool(True)),),
        drop=("resection",),
        expect={"primary_resected_6_months": U},
    ),
    Case(
        "resection-182-days",
        '§4.2 "resection dated ≥ 182 days before evaluation" met; §7 "at least 6 months means '
        '≥ 182 days"',
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed=days_before(182)),),
    ),
    Case(
        "resection-181-days",
        '§4.2 "resection dated < 182 days before" → not_met',
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed=days_before(181)),),
        expect={"primary_resected_6_months": N},
    ),
    Case(
        "resection-beats-assessment",
        '§7 "a completed resection Procedure ... beats a contradicting assessment"',
        "T",
        (assessment("resected", "primary-resected", days_before(10), v_bool(False)),),
    ),
    Case(
        "resection-dated-by-period-end",
        '§3 Procedure date "else performedPeriod.end": end 170 days → < 182 → not_met',
        "T",
        (
            _resection(
                *SMALL_BOWEL,
                reason="Condition/primary",
                performed=None,
                period=(days_before(200), days_before(170)),
            ),
        ),
        expect={"primary_resected_6_months": N},
    ),
    Case(
        "resection-partial-month-straddles",
        '§7 partial dates "decided only if it holds for all those days": 2026-05 is 175-205 '
        "days ago → unknown",
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed="2026-05"),),
        expect={"primary_resected_6_months": U},
    ),
    Case(
        "resection-partial-year",
        "§7 partial dates: 2025 is at least 326 days ago → met",
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed="2025"),),
    ),
    Case(
        "resection-undated",
        '§7 "a completed resection Procedure (undated counts) → met"; undated cannot be '
        "shown ≥ 182 days → primary_resected_6_months unknown",
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed=None),),
        expect={"primary_resected_6_months": U},
        exact_warnings=False,
    ),
    Case(
        "resection-after-evaluation-date",
        '§7 "Conditions and Procedures dated after the evaluation date are ignored"',
        "T",
        (_resection(*SMALL_BOWEL, reason="Condition/primary", performed=future(10)),),
        expect=UNRESECTED,
    ),
]
