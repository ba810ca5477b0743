"""Build the criteria inputs of one patient from their FHIR resources."""

from __future__ import annotations

from datetime import date
from typing import Any

from service.criteria.inputs import CriteriaInputs, Warning
from service.mappers.bundle import PatientRecord, record_from_bundle
from service.mappers.codes import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.conditions import read_conditions
from service.mappers.contained import contained_warnings
from service.mappers.observations import ObservationReader, classify_observations
from service.mappers.patient import read_birth_date, read_deceased
from service.mappers.procedures import read_procedures
from service.mappers.quantities import PERCENT
from service.records import replace

__all__ = ["map_bundle", "map_record"]


def map_record(
    record: PatientRecord, at: date, terminology: Terminology = DEFAULT_TERMINOLOGY
) -> CriteriaInputs:
    """Return the criteria inputs of ``record`` as of ``at``; never raises for a bad
    resource (it becomes a warning in the inputs)."""
    warnings: list[Warning] = list(record.warnings)
    birth_date = read_birth_date(record.patient, warnings)
    deceased = read_deceased(record.patient, at, warnings)
    warnings.extend(contained_warnings(record.resources, terminology))
    conditions = read_conditions(record.resources, terminology, at, warnings)
    procedures = read_procedures(record.resources, terminology, at, conditions, warnings)
    observations = ObservationReader(
        classify_observations(record.resources, terminology, at, warnings), warnings
    )
    inputs = CriteriaInputs(
        patient=record.patient.reference,
        evaluation_date=at,
        birth_date=birth_date,
        ki67=observations.ki67(),
        grade=observations.grade(),
        neuroendocrine_carcinoma=conditions.any_status("neuroendocrine_carcinoma"),
        bilirubin=observations.bilirubin(),
        platelets=observations.platelets(),
        primary_sites=conditions.primary_sites,
        primary_resections=procedures["primary_resection"],
        primary_resected=observations.boolean("primary_resected"),
        primary_resectable=observations.boolean("primary_resectable"),
        liver_metastases=conditions.present("liver_metastasis"),
        extrahepatic_metastases=conditions.present("extrahepatic_metastasis"),
        regional_node_metastases=conditions.present("regional_node_metastasis"),
        extrahepatic_staging=observations.boolean("extrahepatic_staging"),
        hepatic_tumour_burden=observations.measurement("hepatic_tumour_burden", PERCENT),
        metastatic_pattern=observations.metastatic_pattern(),
        hepatic_disease_resectable=observations.boolean("hepatic_disease_resectable"),
        future_liver_remnant=observations.measurement("future_liver_remnant", PERCENT),
        major_hepatectomy_planned=observations.boolean("major_hepatectomy_planned"),
        cirrhosis=conditions.present("cirrhosis"),
        significant_liver_disease=conditions.present("significant_liver_disease"),
        portal_hypertension_signs=conditions.present("portal_hypertension_signs"),
        disease_course=observations.disease_course(),
        refractory_hormonal_syndrome=observations.boolean("refractory_hormonal_syndrome"),
        carcinoid_heart_disease=conditions.present("carcinoid_heart_disease"),
        ecog=observations.ecog(),
        liver_transplants=procedures["liver_transplant"],
        unreadable_conditions=conditions.unreadable,
        deceased=deceased,
    )
    # The readers above append to ``warnings`` as they go, so attach them last.
    return replace(inputs, warnings=tuple(dict.fromkeys(warnings)))


def map_bundle(
    bundle: Any,
    at: date,
    patient_id: str | None = None,
    terminology: Terminology = DEFAULT_TERMINOLOGY,
) -> CriteriaInputs:
    """Return the criteria inputs of the Bundle's patient; raises ``BundleError``."""
    return map_record(record_from_bundle(bundle, patient_id), at, terminology)
