"""What the clinician page shows, prepared from the result and the patient's record.

Pure functions, no Flask: the templates only lay out what is prepared here. In reading
order: who (:mod:`~service.pages.identity`); each pathway's verdict in one sentence
(:mod:`service.verdicts`); what would change the verdict (the result's ``decisiveData``);
the criteria matrix (:mod:`~service.pages.matrix`); the timelines
(:mod:`~service.pages.timelines`); notes and data warnings. Every string from the record
stays a plain string (the templates escape it); the only markup handed over is the SVG
of the charts, which :mod:`service.charts` writes itself, escaping every text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from markupsafe import Markup

from service.charts import render_svg
from service.code_names import code_names, name_codes
from service.criteria import Evaluation
from service.criteria.inputs import ConditionFact, ProcedureFact
from service.criteria.notes import SUPPORT_NOTE
from service.criteria.sources import cite
from service.mappers import PatientRecord, Terminology
from service.pages.evidence import EvidenceReader, reference_href
from service.pages.identity import PatientIdentity, patient_identity
from service.pages.matrix import Matrix, matrix
from service.pages.timelines import TimelineRow, timelines
from service.verdicts import (
    SET_NAMES,
    STATUS_WORDS,
    DecisiveItem,
    PathwayVerdict,
    clinical_text,
    decisive_items,
    join_names,
    pathway_verdicts,
)

__all__ = [
    "ItemView",
    "PageView",
    "SetBadge",
    "TimelineView",
    "VerdictView",
    "WarningView",
    "page_view",
    "reference_href",
]

SET_STATUS_TEXT: Mapping[str, str] = {
    "eligible": "Eligible",
    "ineligible": "Not eligible",
    "indeterminate": "Undecided",
}


@dataclass(frozen=True)
class SetBadge:
    """A criteria set's name, version and status."""

    id: str
    name: str
    version: str
    status: str
    status_text: str


@dataclass(frozen=True)
class VerdictView:
    """One pathway: its status, the sentence that says why, and its sets."""

    pathway: str
    name: str
    status: str
    status_text: str
    sentence: str
    because: str
    """The sentence after the verdict: the deciding finding or the next step."""
    sets: tuple[SetBadge, ...]


@dataclass(frozen=True)
class ItemView:
    """One data item of the ranked list, with the sets it bears on, in words."""

    key: str
    label: str
    could_change: str
    decides: str


@dataclass(frozen=True)
class TimelineView:
    """A timeline: its chart (SVG) when anything can be drawn, and its table rows."""

    key: str
    title: str
    svg: Markup | None
    rows: tuple[TimelineRow, ...]


@dataclass(frozen=True)
class WarningView:
    """A resource the evaluation could not use, and why."""

    reference: str | None
    href: str | None
    message: str


@dataclass(frozen=True)
class PageView:
    """Everything the evaluation page shows."""

    patient: str
    identity: PatientIdentity | None
    evaluation_date: str
    engine_name: str
    engine_version: str
    verdicts: tuple[VerdictView, ...]
    sets: tuple[SetBadge, ...]
    to_record: tuple[ItemView, ...]
    mdt_decisions: tuple[ItemView, ...]
    would_not_change: tuple[ItemView, ...]
    matrix: Matrix
    timelines: tuple[TimelineView, ...]
    notes: tuple[str, ...]
    warnings: tuple[WarningView, ...]
    fhir_base: str | None


def _names(set_ids: Sequence[str]) -> str:
    return join_names([SET_NAMES.get(s, s) for s in set_ids])


def _items(items: Sequence[DecisiveItem]) -> tuple[ItemView, ...]:
    return tuple(ItemView(i.key, i.label, _names(i.could_change), _names(i.decides)) for i in items)


def _badges(result: Mapping[str, Any]) -> tuple[SetBadge, ...]:
    return tuple(
        SetBadge(
            id=str(a["criteriaSet"]),
            name=SET_NAMES.get(str(a["criteriaSet"]), str(a["criteriaSet"])).capitalize()
            if a["criteriaSet"] == "resection"
            else SET_NAMES.get(str(a["criteriaSet"]), str(a["criteriaSet"])),
            version=str(a["version"]),
            status=str(a["status"]),
            status_text=SET_STATUS_TEXT.get(str(a["status"]), str(a["status"])),
        )
        for a in result["assessments"]
    )


def _eligible_under(verdict: PathwayVerdict) -> str:
    if verdict.status == "eligible" and len(verdict.set_ids) > 1:
        return f"under {_names(verdict.eligible_sets)}."
    return ""


def _verdicts(
    result: Mapping[str, Any], badges: Sequence[SetBadge], names: Mapping[str, str]
) -> tuple[VerdictView, ...]:
    by_id = {b.id: b for b in badges}
    return tuple(
        VerdictView(
            pathway=v.pathway,
            name=v.name,
            status=v.status,
            status_text=STATUS_WORDS[v.status].capitalize(),
            sentence=name_codes(v.sentence, names),
            because=name_codes(v.sentence.split(" — ", 1)[1], names)
            if " — " in v.sentence
            else _eligible_under(v),
            sets=tuple(by_id[s] for s in v.set_ids if s in by_id),
        )
        for v in pathway_verdicts(result)
    )


def _labels(evaluation: Evaluation | None) -> dict[str, str]:
    """Return what the evaluation called each Condition and Procedure, by reference."""
    if evaluation is None:
        return {}
    labels: dict[str, str] = {}
    inputs = evaluation.inputs
    for value in (getattr(inputs, name) for name in inputs.__struct_fields__):
        if isinstance(value, tuple):
            for fact in value:
                if isinstance(fact, ConditionFact | ProcedureFact):
                    labels.setdefault(fact.reference, fact.display[:1].upper() + fact.display[1:])
    return labels


def _timelines(
    record: PatientRecord | None, evaluation: Evaluation | None, terminology: Terminology | None
) -> tuple[TimelineView, ...]:
    if record is None or evaluation is None or terminology is None:
        return ()
    return tuple(
        TimelineView(
            key=t.key,
            title=t.title,
            svg=Markup(render_svg(t.chart, id_prefix=f"chart-{t.key}")) if t.chart else None,
            rows=t.rows,
        )
        for t in timelines(record, evaluation, terminology)
    )


def page_view(
    result: Mapping[str, Any],
    *,
    record: PatientRecord | None = None,
    evaluation: Evaluation | None = None,
    terminology: Terminology | None = None,
    fhir_base: str | None = None,
) -> PageView:
    """Return what the page shows for an evaluation result.

    With the patient's ``record`` (and the ``evaluation`` and ``terminology`` it was
    evaluated with) the page also shows the identity header, readable evidence and the
    timelines; FHIR references are linked under ``fhir_base`` when it is given.
    """
    engine = result.get("engine", {})
    badges = _badges(result)
    reader = EvidenceReader(record, fhir_base, _labels(evaluation))
    identity = None
    if record is not None:
        at = evaluation.inputs.evaluation_date if evaluation is not None else None
        if at is not None:
            identity = patient_identity(record.patient.resource, at)
    warnings = tuple(
        WarningView(
            reference=str(w["reference"]) if w.get("reference") is not None else None,
            href=reference_href(fhir_base, w.get("reference")),
            message=str(w.get("message", "")),
        )
        for w in result.get("warnings", [])
    )
    return PageView(
        patient=str(result["patient"]),
        identity=identity,
        evaluation_date=str(result["evaluationDate"]),
        engine_name=str(engine.get("name", "")),
        engine_version=str(engine.get("version", "")),
        verdicts=_verdicts(result, badges, code_names(result, record)),
        sets=badges,
        to_record=_items(decisive_items(result)),
        mdt_decisions=_items(decisive_items(result, "mdtDecisions")),
        would_not_change=_items(decisive_items(result, "wouldNotChange")),
        matrix=matrix(result, reader),
        timelines=_timelines(record, evaluation, terminology),
        notes=tuple(
            clinical_text(cite(str(n))) for n in result.get("notes", []) if n != SUPPORT_NOTE
        ),
        warnings=warnings,
        fhir_base=fhir_base,
    )
