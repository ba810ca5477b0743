"""Cases on the liver and the patient: spread, burden, course, FLR, pattern, portal
hypertension and fitness."""

from __future__ import annotations

from tests.acceptance.kit import (
    OID_ICD10CM,
    OID_SNOMED,
    Case,
    M,
    Mention,
    N,
    U,
    unreadable_status,
)
from tests.fixtures.fhir_builders import (
    ICD10CM,
    assessment,
    coding,
    concept,
    condition,
    days_before,
    disease_status,
    ecog,
    icd,
    pattern,
    platelets,
    quantity,
    sct,
    v_bool,
    v_quantity,
    v_range,
)


def _burden(value: dict[str, object]) -> dict[str, object]:
    return assessment("burden", "hepatic-tumour-burden", days_before(30), value)


def _refractory(flag: bool) -> dict[str, object]:
    return assessment("refractory", "refractory-hormonal-syndrome", days_before(30), v_bool(flag))


def _flr(percent: float) -> dict[str, object]:
    return assessment("flr", "future-liver-remnant", days_before(30), v_quantity(percent, "%"))


def _hdr(flag: bool) -> dict[str, object]:
    return assessment("hdr", "hepatic-disease-resectable", days_before(30), v_bool(flag))


def _mhp(local_id: str, days: int, flag: bool) -> dict[str, object]:
    return assessment(local_id, "major-hepatectomy-planned", days_before(days), v_bool(flag))


def _cond(local_id: str, code: dict[str, object], **kw: object) -> dict[str, object]:
    kw.setdefault("onset", days_before(60))
    return condition(local_id, code, **kw)  # type: ignore[arg-type]


def _pct(value: float, comparator: str) -> dict[str, object]:
    return quantity(value, "%", code="%", comparator=comparator)


BONE = icd("C7B.03", "Secondary carcinoid tumors of bone")
NODES = icd("C77.2", "Secondary malignant neoplasm of intra-abdominal lymph nodes")
EXTRAHEPATIC_UNKNOWN = {"no_extrahepatic_disease": U, "liver_limited_disease": U}
EXTRAHEPATIC_PRESENT = {"no_extrahepatic_disease": N, "liver_limited_disease": U}
MDT_SPREAD = Mention("liver_limited_disease", ("MDT",))


def _burden_cases() -> list[Case]:
    rows = [
        ("burden-50-refractory", 50, True, N, M, '"50–<75 % with refractory syndrome = true" met'),
        ("burden-50-not-refractory", 50, False, N, N, '"50–<75 % with refractory = false"'),
        ("burden-50-refractory-unrecorded", 50, None, N, U, '"refractory not recorded → unknown"'),
        ("burden-49-9", 49.9, None, M, M, '"burden < 50 %" met'),
        ("burden-74-9-refractory", 74.9, True, N, M, "74.9 % is in the 50–<75 % band"),
        ("burden-75-refractory", 75, True, N, N, '"burden ≥ 75 %" not_met'),
    ]
    cases = []
    for name, value, refractory, under_50, enets, quote in rows:
        changes = [_burden(v_quantity(value, "%"))]
        if refractory is not None:
            changes.append(_refractory(refractory))
        cases.append(
            Case(
                name,
                f"§4.1 liver_involvement_under_50 (< 50 %) and §4.2 liver_involvement: {quote}",
                "T",
                tuple(changes),
                expect={"liver_involvement_under_50": under_50, "liver_involvement": enets},
            )
        )
    return cases


CASES: list[Case] = [
    Case(
        "extrahepatic-bone-despite-staging",
        '§7 "an active extrahepatic Condition → not_met even when a newer staging says '
        'absent"; §4.4 liver_limited_disease "never not_met from data alone ... needs MDT '
        'judgement"',
        "T",
        (_cond("bone", BONE),),
        expect=EXTRAHEPATIC_PRESENT,
        mentions=(MDT_SPREAD,),
    ),
    Case(
        "extrahepatic-regional-nodes",
        '§7 "no_extrahepatic_disease counts active regional-node metastases (C77.x) ...; '
        'liver_limited_disease (resection) does not" (§8)',
        "T",
        (_cond("nodes", NODES),),
        expect={"no_extrahepatic_disease": N},
    ),
    Case(
        "extrahepatic-staging-present",
        '§7 "no_extrahepatic_disease: staging true → not_met"',
        "T",
        (assessment("staging", "extrahepatic-disease", days_before(30), v_bool(True)),),
        expect=EXTRAHEPATIC_PRESENT,
    ),
    Case(
        "extrahepatic-no-staging",
        '§1 "No extrahepatic metastasis Condition found is unknown, not met; only an explicit '
        'staging result can make it met"',
        "T",
        drop=("staging",),
        expect=EXTRAHEPATIC_UNKNOWN,
    ),
    Case(
        "extrahepatic-resolved-is-history",
        '§7 "resolved ones are history" (C78.00 resolved, staging absent)',
        "T",
        (
            _cond(
                "lungmet",
                icd("C78.00", "Secondary malignant neoplasm of unspecified lung"),
                clinical="resolved",
            ),
        ),
    ),
    Case(
        "extrahepatic-unreadable-status",
        '§7 "An unreadable Condition whose code is an exclusion ... e.g. a clinicalStatus with '
        "text but no coding ... cannot be met; it becomes unknown, the reason names the "
        'resource" (§8)',
        "T",
        (unreadable_status(_cond("bone", BONE)),),
        expect=EXTRAHEPATIC_UNKNOWN,
        exact_warnings=False,
        mentions=(
            Mention("no_extrahepatic_disease", ("Condition/extrahepatic-unreadable-status-bone",)),
            Mention("no_extrahepatic_disease", ("status",)),
        ),
    ),
    Case(
        "regional-nodes-unreadable-status",
        "§7 unreadable exclusion Condition: only criteria it could turn not_met become unknown; "
        "regional nodes (C77.x) cannot touch liver_limited_disease",
        "T",
        (unreadable_status(_cond("nodes", NODES)),),
        expect={"no_extrahepatic_disease": U},
        exact_warnings=False,
    ),
    Case(
        "extrahepatic-remission",
        '§3 "inactive, remission, resolved mean not present now" (C7B.01 distant nodes)',
        "T",
        (
            _cond(
                "nodes",
                icd("C7B.01", "Secondary carcinoid tumors of distant lymph nodes"),
                clinical="remission",
            ),
        ),
    ),
    Case(
        "extrahepatic-relapse",
        '§3 Condition present when clinicalStatus is "active, recurrence or relapse" (C7B.04)',
        "T",
        (
            _cond(
                "perit",
                icd("C7B.04", "Secondary carcinoid tumors of peritoneum"),
                clinical="relapse",
            ),
        ),
        expect=EXTRAHEPATIC_PRESENT,
    ),
    Case(
        "extrahepatic-refuted",
        '§3 Condition counts only when "verificationStatus is not refuted"',
        "T",
        (_cond("bone", BONE, verification="refuted"),),
    ),
    Case(
        "extrahepatic-no-clinical-status-dotless",
        '§3 Condition present when clinicalStatus is "(or absent)"; terminology C79.x by '
        'prefix, dotless "C7951"',
        "T",
        (_cond("bone", concept(coding(ICD10CM, "C7951")), clinical=None),),
        expect=EXTRAHEPATIC_PRESENT,
    ),
    Case(
        "extrahepatic-peritoneum-icd-oid",
        "terminology v1.1: ICD-10-CM OID system, C78.6 (C78.0–C78.6 family) → present",
        "T",
        (_cond("perit", concept(coding(OID_ICD10CM, "C78.6"))),),
        expect=EXTRAHEPATIC_PRESENT,
    ),
    *_burden_cases(),
    Case(
        "burden-range-40-60-refractory",
        '§3 interval "decided only if the whole interval lies on one side"; §7 "ENETS '
        "liver_involvement with an interval value: decided only when every band the interval "
        'touches gives the same answer"',
        "T",
        (_burden(v_range(40, 60)), _refractory(True)),
        expect={"liver_involvement_under_50": U},
    ),
    Case(
        "burden-range-40-60-not-refractory",
        "§7 ENETS bands disagree (< 50 met, 50–<75 without refractory syndrome not_met) → unknown",
        "T",
        (_burden(v_range(40, 60)), _refractory(False)),
        expect={"liver_involvement_under_50": U, "liver_involvement": U},
    ),
    Case(
        "burden-below-50-comparator",
        '§3 "A Quantity comparator (<, ...) makes the value an interval": "< 50 %" is below 50',
        "T",
        (_burden({"valueQuantity": _pct(50, "<")}),),
    ),
    Case(
        "burden-missing",
        "§4.1 / §4.2 burden not recorded → unknown (absence is never evidence, §1)",
        "T",
        drop=("burden",),
        expect={"liver_involvement_under_50": U, "liver_involvement": U},
    ),
    Case(
        "stable-182-days",
        '§4.1 "a stable or responding result dated ≥ 182 days before the evaluation date '
        'exists with no progressing result after it" at exactly 182',
        "T",
        (disease_status("ds-old", days_before(182), "stable"),),
    ),
    Case(
        "stable-181-days",
        "§4.1 stable only 181 days → not yet 6 months → unknown",
        "T",
        (disease_status("ds-old", days_before(181), "stable"),),
        expect={"stable_disease_6_months": U},
    ),
    Case(
        "progression-181-days",
        '§4.1 not_met: "a progressing result dated within the 182 days before"; §7 "not_met is '
        'checked first"',
        "T",
        (disease_status("ds-old", days_before(181), "worsened"),),
        expect={"stable_disease_6_months": N},
    ),
    Case(
        "progression-182-days-between-stables",
        "§7 progression at 182 days is not within 182 days, but it follows the only stable "
        "result ≥ 182 days old → neither met nor not_met → unknown",
        "T",
        (
            disease_status("ds-old", days_before(300), "stable"),
            disease_status("ds-mid", days_before(182), "worsened"),
        ),
        expect={"stable_disease_6_months": U},
    ),
    Case(
        "progression-old-no-stable-since",
        '§7 "(e.g. a progression older than 182 days with no stable result since)" → unknown',
        "T",
        (disease_status("ds-old", days_before(200), "worsened"),),
        drop=("ds-new",),
        expect={"stable_disease_6_months": U},
    ),
    Case(
        "progression-latest",
        "§4.1 latest result progressing (10 days) → not_met",
        "T",
        (disease_status("ds-latest", days_before(10), "worsened"),),
        expect={"stable_disease_6_months": N},
    ),
    Case(
        "responding-interchangeable",
        '§7 ""stable" and "responding" are interchangeable"; terminology improved / not '
        "detected → responding/stable",
        "T",
        (
            disease_status("ds-old", days_before(200), "improved"),
            disease_status("ds-new", days_before(20), "not-detected"),
        ),
    ),
    Case(
        "undetermined-course-ignored",
        "terminology: 709137006 undetermined → ignored (newer than the stable results)",
        "T",
        (disease_status("ds-latest", days_before(10), "undetermined"),),
    ),
    Case(
        "disease-status-missing",
        "§4.1 no disease-status result → unknown",
        "T",
        drop=("ds-old", "ds-new"),
        expect={"stable_disease_6_months": U},
    ),
    Case(
        "flr-20-normal-liver",
        '§4.4 adequate_future_liver_remnant "FLR ≥ 20 % (normal liver)"',
        "R",
        (_flr(20),),
    ),
    Case(
        "flr-19-9-normal-liver",
        '§4.4 "below the threshold for that liver" → not_met',
        "R",
        (_flr(19.9),),
        expect={"adequate_future_liver_remnant": N},
    ),
    Case(
        "flr-30-steatosis",
        '§7 "present steatosis or toxic liver injury → 30 %" (K76.0): 30 → met',
        "R",
        (_flr(30), _cond("steatosis", icd("K76.0", "Fatty (change of) liver, NEC"))),
    ),
    Case(
        "flr-29-9-toxic-injury",
        "terminology: K71.x (by prefix) is significant liver disease: 29.9 < 30 → not_met",
        "R",
        (_flr(29.9), _cond("toxic", icd("K71.6", "Toxic liver disease with hepatitis, NEC"))),
        expect={"adequate_future_liver_remnant": N},
    ),
    Case(
        "flr-40-cirrhosis",
        '§4.4 "≥ 40 % (compensated cirrhosis)": K74.60 with FLR 40 → met',
        "R",
        (_flr(40), _cond("cirrhosis", icd("K74.60", "Unspecified cirrhosis of liver"))),
    ),
    Case(
        "flr-35-cirrhosis-and-steatosis",
        '§7 "any present cirrhosis → 40 %; else ..." (SNOMED cirrhosis and K76.0): 35 → not_met',
        "R",
        (
            _flr(35),
            _cond("cirrhosis", sct("19943007", "Cirrhosis of liver")),
            _cond("steatosis", icd("K76.0", "Fatty (change of) liver, NEC")),
        ),
        expect={"adequate_future_liver_remnant": N},
    ),
    Case(
        "flr-unreadable-cirrhosis",
        '§7 an unreadable exclusion Condition: every criterion "whose threshold it could raise '
        'cannot be met" (cirrhosis, FLR 35 %)',
        "R",
        (_flr(35), unreadable_status(_cond("cirrhosis", icd("K74.60", "Cirrhosis")))),
        expect={"adequate_future_liver_remnant": U},
        exact_warnings=False,
        mentions=(
            Mention(
                "adequate_future_liver_remnant", ("Condition/flr-unreadable-cirrhosis-cirrhosis",)
            ),
        ),
    ),
    Case(
        "minor-hepatectomy-no-flr",
        '§7 "without one, the latest major-hepatectomy-planned assessment = false → met '
        '(reason: "minor resection planned: volumetry not required")" (§8)',
        "R",
        (_mhp("mhp", 30, False),),
        drop=("flr",),
        mentions=(Mention("adequate_future_liver_remnant", ("volumetry", "minor")),),
    ),
    Case(
        "major-hepatectomy-no-flr",
        '§7 "= true or absent → unknown needing the FLR" (latest true beats an older false)',
        "R",
        (_mhp("mhp-old", 60, False), _mhp("mhp", 10, True)),
        drop=("flr",),
        expect={"adequate_future_liver_remnant": U},
    ),
    Case(
        "minor-hepatectomy-flr-15",
        '§7 "A recorded FLR decides" even when a minor resection is planned: 15 % → not_met',
        "R",
        (_mhp("mhp", 30, False), _flr(15)),
        expect={"adequate_future_liver_remnant": N},
    ),
    Case(
        "type-ii-flr-not-met",
        '§7 bilobar_unresectable "type II/III without that assessment but with '
        'adequate_future_liver_remnant not_met → met" (§8); all_disease_resectable type II '
        '"unknown with the note that combined or two-stage approaches exist"',
        "T",
        (pattern("pattern", days_before(30), "type-ii"), _flr(15)),
        drop=("hdr",),
        expect={
            "bilobar_unresectable": M,
            "all_disease_resectable": U,
            "adequate_future_liver_remnant": N,
        },
        mentions=(Mention("all_disease_resectable", ("two-stage", "two stage", "combined")),),
    ),
    Case(
        "type-ii-ecog-3-only",
        '§7 "Other reasons that make the resection set ineligible (fitness, grade, heart '
        'disease) never make it met" (§8: ECOG 3, type II, no resectability assessment)',
        "T",
        (pattern("pattern", days_before(30), "type-ii"), ecog("ecog", days_before(30), 3)),
        drop=("hdr",),
        expect={"bilobar_unresectable": U, "all_disease_resectable": U, "fit_for_surgery": N},
    ),
    Case(
        "type-iii-resectable",
        '§7 "assessment "resectable" → not_met" for bilobar_unresectable; "the explicit '
        'hepatic-disease-resectable assessment wins" over type III',
        "T",
        (_hdr(True),),
        expect={"bilobar_unresectable": N, "all_disease_resectable": M},
    ),
    Case(
        "type-i-not-resectable",
        '§7 bilobar_unresectable "type I → not_met"; all_disease_resectable: the assessment wins',
        "T",
        (pattern("pattern", days_before(30), "type-i"),),
        expect={"bilobar_unresectable": N},
    ),
    Case(
        "type-i-no-assessment",
        '§7 "the Frilling pattern decides only without it (type I met ...)"',
        "T",
        (pattern("pattern", days_before(30), "type-i"),),
        drop=("hdr",),
        expect={"bilobar_unresectable": N, "all_disease_resectable": M},
    ),
    Case(
        "type-iii-no-assessment",
        '§7 all_disease_resectable "type III not_met"; bilobar_unresectable "otherwise unknown, '
        'needing the hepatic-disease-resectable assessment" (FLR unknown)',
        "T",
        drop=("hdr",),
        expect={"bilobar_unresectable": U},
    ),
    Case(
        "type-ii-not-resectable",
        '§7 "type II/III with assessment "not resectable" → met"',
        "T",
        (pattern("pattern", days_before(30), "type-ii"),),
    ),
    Case(
        "no-pattern-not-resectable",
        '§4.3 bilobar_unresectable needs "pattern bilobar (Frilling II/III)": no pattern → unknown',
        "T",
        drop=("pattern",),
        expect={"bilobar_unresectable": U},
    ),
    Case(
        "portal-hypertension-condition",
        '§4.4 no_portal_hypertension not_met: "such a Condition present" (K76.6, platelets 220)',
        "T",
        (_cond("ph", icd("K76.6", "Portal hypertension")),),
        expect={"no_portal_hypertension": N},
    ),
    Case(
        "ascites-dotless",
        'terminology: ascites R18.8 sent dotless "R188"',
        "T",
        (_cond("ascites", concept(coding(ICD10CM, "R188"))),),
        expect={"no_portal_hypertension": N},
    ),
    Case(
        "varices-snomed-oid",
        "terminology v1.1: oesophageal varices SNOMED 28670008 under the SNOMED OID",
        "T",
        (_cond("varices", concept(coding(OID_SNOMED, "28670008"))),),
        expect={"no_portal_hypertension": N},
    ),
    Case(
        "platelets-stale-with-varices",
        '§4.4 no_portal_hypertension not_met on "platelets < 100 ... or such a Condition '
        'present": a present varices Condition decides although the platelet count is stale',
        "T",
        (
            platelets("plt", days_before(120), 220),
            _cond("varices", icd("I85.00", "Esophageal varices without bleeding")),
        ),
        expect={"no_portal_hypertension": N},
    ),
    Case(
        "splenomegaly-resolved",
        '§3 "inactive, remission, resolved mean not present now" (R16.1 resolved)',
        "T",
        (_cond("spleen", icd("R16.1", "Splenomegaly, NEC"), clinical="resolved"),),
    ),
    Case(
        "portal-hypertension-unreadable",
        "§7 unreadable exclusion Condition (portal hypertension, text-only clinicalStatus) → "
        "no_portal_hypertension cannot be met",
        "T",
        (unreadable_status(_cond("ph", icd("K76.6", "Portal hypertension"))),),
        expect={"no_portal_hypertension": U},
        exact_warnings=False,
    ),
    Case(
        "carcinoid-heart-active",
        '§4.4 fit_for_surgery not_met: "an active carcinoid heart disease Condition" (E34.01)',
        "T",
        (_cond("chd", icd("E34.01", "Carcinoid heart syndrome")),),
        expect={"fit_for_surgery": N},
    ),
    Case(
        "carcinoid-heart-treated",
        '§3 carcinoid heart disease "inactive/resolved = treated" (SNOMED 36222008)',
        "T",
        (_cond("chd", sct("36222008", "Carcinoid heart disease"), clinical="resolved"),),
    ),
    Case(
        "carcinoid-heart-unreadable",
        "§7 unreadable exclusion Condition (carcinoid heart disease) → fit_for_surgery unknown",
        "T",
        (unreadable_status(_cond("chd", icd("E34.01", "Carcinoid heart syndrome"))),),
        expect={"fit_for_surgery": U},
        exact_warnings=False,
    ),
    Case(
        "carcinoid-syndrome-is-not-heart-disease",
        "terminology: carcinoid syndrome E34.0 is not carcinoid heart disease E34.01",
        "T",
        (_cond("syndrome", icd("E34.0", "Carcinoid syndrome")),),
    ),
    Case(
        "ecog-answer-2",
        '§4.4 "ECOG 0–2" met; terminology LOINC answer LA9624-3 = 2',
        "T",
        (ecog("ecog", days_before(30), 2, as_answer=True),),
    ),
    Case(
        "ecog-answer-3",
        '§4.4 "ECOG 3–5" not_met; terminology LA9625-0 = 3',
        "T",
        (ecog("ecog", days_before(30), 3, as_answer=True),),
        expect={"fit_for_surgery": N},
    ),
    Case(
        "ecog-missing",
        "§4.4 no ECOG → fit_for_surgery unknown (no carcinoid heart disease is not evidence)",
        "T",
        drop=("ecog",),
        expect={"fit_for_surgery": U},
    ),
]
