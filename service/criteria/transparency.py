"""Source attributes of each criteria set, as the US ONC HTI-1 rule asks of decision support.

The HTI-1 final rule (Health Data, Technology, and Interoperability: Certification
Program Updates, Algorithm Transparency, and Information Sharing; 89 FR 1192, 9 January
2024) revised the decision support criterion to 45 CFR 170.315(b)(11). Paragraph
(b)(11)(iv)(A) lists the source attributes of an *evidence-based* decision support
intervention, which each criteria set is:

1. bibliographic citation of the intervention (clinical research or guideline);
2. developer of the intervention (translation from clinical research or guideline);
3. funding source of the intervention's technical implementation;
4. release and, if applicable, revision dates of the intervention or reference source;
5. to 13. use of race, ethnicity, language, sexual orientation, gender identity, sex,
   date of birth, social determinants of health data, and health status assessments data.

(b)(11)(iv)(B) covers *predictive* interventions (models trained on data); these sets are
rules from published criteria, not predictive, so (B) does not apply. 45 CFR
170.402(b)(4) asks the developer to keep the attributes current: attributes 5-13 are
therefore not written by hand but derived from the inputs each set's criteria read
(:data:`INPUT_ATTRIBUTES` classifies every input), so a criterion that starts reading,
say, sex changes the published attribute with it.

Health status assessments are read as the USCDI v3 data class of that name (health
concerns, functional status, disability status, mental/cognitive status, pregnancy and
smoking status); the ECOG performance status is a functional status assessment.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from types import MappingProxyType

from service.criteria.model import CriteriaSet, Criterion
from service.criteria.rules.extent import REMNANT_CRITERION
from service.criteria.sources import full_citation, seeds_in
from service.records import Struct

__all__ = [
    "DATA_ATTRIBUTES",
    "REGULATION",
    "DEPENDENCY_READS",
    "DEVELOPER",
    "FUNDING",
    "INPUT_ATTRIBUTES",
    "RELEASES",
    "DataUse",
    "SourceAttributes",
    "TransparencyError",
    "source_attributes",
    "source_attributes_json",
]

REGULATION = "45 CFR 170.315(b)(11)(iv)(A)"
"""The paragraph listing the source attributes of evidence-based interventions."""


class TransparencyError(ValueError):
    """A criteria set's source attributes cannot be stated (unknown version, unclassified
    input)."""


DATA_ATTRIBUTES: Mapping[str, str] = MappingProxyType(
    {
        "race": "Race",
        "ethnicity": "Ethnicity",
        "language": "Language",
        "sexualOrientation": "Sexual orientation",
        "genderIdentity": "Gender identity",
        "sex": "Sex",
        "dateOfBirth": "Date of birth",
        "socialDeterminantsOfHealth": "Social determinants of health",
        "healthStatusAssessments": "Health status assessments",
    }
)
"""Attributes (5)-(13) of §170.315(b)(11)(iv)(A), by JSON key, with their names."""

INPUT_ATTRIBUTES: Mapping[str, tuple[str, str] | None] = MappingProxyType(
    {
        "evaluation_date": None,
        "birth_date": ("dateOfBirth", "date of birth (age on the evaluation date)"),
        "ecog": ("healthStatusAssessments", "ECOG performance status (functional status)"),
        "ki67": None,
        "grade": None,
        "neuroendocrine_carcinoma": None,
        "bilirubin": None,
        "platelets": None,
        "primary_sites": None,
        "primary_resections": None,
        "primary_resected": None,
        "primary_resectable": None,
        "liver_metastases": None,
        "extrahepatic_metastases": None,
        "regional_node_metastases": None,
        "extrahepatic_staging": None,
        "hepatic_tumour_burden": None,
        "metastatic_pattern": None,
        "hepatic_disease_resectable": None,
        "future_liver_remnant": None,
        "major_hepatectomy_planned": None,
        "cirrhosis": None,
        "significant_liver_disease": None,
        "portal_hypertension_signs": None,
        "disease_course": None,
        "refractory_hormonal_syndrome": None,
        "carcinoid_heart_disease": None,
        "liver_transplants": None,
    }
)
"""Every criteria input: the data attribute it falls under and how it is used, or
``None`` when it falls under none of (5)-(13). A test checks that every input is here."""

DEPENDENCY_READS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {"bilobar_unresectable": (REMNANT_CRITERION,)}
)
"""For a rule that reads another set's result (``depends_on_set``): the criteria of that
set it reads. A rule not listed here is taken to read the whole set."""

DEVELOPER = (
    "NELM-CDS open-source project: the criteria were translated from the cited reviews into "
    "the project's clinical specification (criteria.md, version 1.1) and implemented as "
    "versioned rules; the Milan-NET, ENETS and OPTN/UNOS criteria themselves are those "
    "reported by the reviews."
)
FUNDING = (
    "None recorded: the project declares no funding source for the technical "
    "implementation. An organisation that deploys it records its own."
)

RELEASES: Mapping[str, date] = MappingProxyType(
    {"1.0.0": date(2026, 11, 22), "1.1.0": date(2026, 11, 25)}
)
"""When each criteria version was published; a published version is never edited."""


class DataUse(Struct, frozen=True):
    """Whether a set uses one of the attributes (5)-(13), and for what."""

    key: str
    name: str
    used: bool
    how: tuple[str, ...]


class SourceAttributes(Struct, frozen=True):
    """The 13 source attributes of one criteria set."""

    set_id: str
    version: str
    citations: tuple[str, ...]
    """Full citations of every review the set or its criteria cite, in seed order."""
    developer: str
    funding: str
    released: date
    """Release of the set's first version, ``released_version``."""
    released_version: str
    revised: date | None
    """Release of the current version, when it is a revision."""
    data_use: tuple[DataUse, ...]

    def to_json(self) -> dict[str, object]:
        """Return the attributes as JSON (discovery extension, ``/api/criteria-sets``)."""
        return {
            "criteriaSet": self.set_id,
            "version": self.version,
            "bibliographicCitation": list(self.citations),
            "developer": self.developer,
            "fundingSource": self.funding,
            "releaseDate": self.released.isoformat(),
            "releaseVersion": self.released_version,
            "revisionDate": None if self.revised is None else self.revised.isoformat(),
            "dataUse": {use.key: {"used": use.used, "how": list(use.how)} for use in self.data_use},
        }


def _inputs_read(criteria_set: CriteriaSet, sets: Mapping[str, CriteriaSet]) -> set[str]:
    """Return the inputs a set's criteria read, with those of the criteria they read in
    the sets they depend on (:data:`DEPENDENCY_READS`; the whole set when not listed)."""
    inputs: set[str] = set()
    seen: set[tuple[str, str]] = set()
    pending: list[tuple[CriteriaSet, Criterion]] = [
        (criteria_set, c) for c in (*criteria_set.criteria, *criteria_set.helpers)
    ]
    while pending:
        owner, criterion = pending.pop()
        if (owner.id, criterion.id) in seen:
            continue
        seen.add((owner.id, criterion.id))
        inputs.update(criterion.inputs)
        inputs.update(
            part_input for part in criterion.parts for part_input in owner.criterion(part).inputs
        )
        dependency = sets.get(criterion.depends_on_set or "")
        if dependency is None:
            continue
        everything = (*dependency.criteria, *dependency.helpers)
        read = DEPENDENCY_READS.get(criterion.rule)
        pending.extend((dependency, c) for c in everything if read is None or c.id in read)
    return inputs


def _data_use(inputs: set[str]) -> tuple[DataUse, ...]:
    unclassified = sorted(name for name in inputs if name not in INPUT_ATTRIBUTES)
    if unclassified:
        raise TransparencyError(
            f"criteria inputs {unclassified} are not classified in INPUT_ATTRIBUTES "
            "(service/criteria/transparency.py)"
        )
    how: dict[str, list[str]] = {key: [] for key in DATA_ATTRIBUTES}
    for name in sorted(inputs):
        attribute = INPUT_ATTRIBUTES[name]
        if attribute is not None:
            how[attribute[0]].append(attribute[1])
    return tuple(
        DataUse(key, label, bool(how[key]), tuple(how[key]))
        for key, label in DATA_ATTRIBUTES.items()
    )


def source_attributes(criteria_set: CriteriaSet, sets: tuple[CriteriaSet, ...]) -> SourceAttributes:
    """Return the source attributes of ``criteria_set`` (one of ``sets``, which resolves
    the sets it depends on).

    Raise :class:`TransparencyError` for a version without a release date or an input
    not classified in :data:`INPUT_ATTRIBUTES`.
    """
    versions = sorted(RELEASES, key=lambda v: tuple(int(p) for p in v.split(".")))
    if criteria_set.version not in RELEASES:
        raise TransparencyError(
            f"criteria set '{criteria_set.id}' version {criteria_set.version} has no release "
            "date in RELEASES (service/criteria/transparency.py)"
        )
    texts = [criteria_set.source, *(c.source for c in criteria_set.criteria)]
    by_id = {s.id: s for s in sets}
    current = RELEASES[criteria_set.version]
    first = RELEASES[versions[0]]
    return SourceAttributes(
        set_id=criteria_set.id,
        version=criteria_set.version,
        citations=tuple(full_citation(seed) for seed in seeds_in(texts)),
        developer=DEVELOPER,
        funding=FUNDING,
        released=first,
        released_version=versions[0],
        revised=current if current != first else None,
        data_use=_data_use(_inputs_read(criteria_set, by_id)),
    )


def source_attributes_json(sets: tuple[CriteriaSet, ...]) -> list[dict[str, object]]:
    """Return the source attributes of every set in ``sets`` as JSON, in set order."""
    return [source_attributes(s, sets).to_json() for s in sets]
