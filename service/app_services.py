"""Typed access, inside a request, to what ``create_app`` built once at start-up."""

from __future__ import annotations

from flask import current_app

from service.criteria import EvaluationConfig
from service.mappers import Terminology
from service.sources import PatientSource

__all__ = ["evaluation_config", "patient_source", "terminology"]


def patient_source() -> PatientSource:
    """Return the configured data source (demo store or FHIR server)."""
    source: PatientSource = current_app.extensions["nelm_source"]
    return source


def evaluation_config() -> EvaluationConfig:
    """Return the criteria's configurable defaults."""
    config: EvaluationConfig = current_app.extensions["nelm_evaluation_config"]
    return config


def terminology() -> Terminology:
    """Return the code lists in force (shipped defaults plus site codes)."""
    codes: Terminology = current_app.extensions["nelm_terminology"]
    return codes
