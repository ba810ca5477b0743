"""Typed access, inside a request, to what ``create_app`` built once at start-up."""

from __future__ import annotations

from collections.abc import Callable

from flask import Flask, current_app

from service.criteria import EvaluationConfig
from service.mappers import Terminology
from service.sources import PatientSource

__all__ = [
    "add_readiness_check",
    "evaluation_config",
    "patient_source",
    "readiness_checks",
    "terminology",
]

READINESS = "nelm_readiness"


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


def add_readiness_check(app: Flask, name: str, check: Callable[[], None]) -> None:
    """Have ``/readyz`` call ``check`` (it raises when ``name`` is not usable now)."""
    app.extensions.setdefault(READINESS, {})[name] = check


def readiness_checks() -> dict[str, Callable[[], None]]:
    """Return the checks ``/readyz`` runs, by the name it reports them under."""
    checks: dict[str, Callable[[], None]] = current_app.extensions.get(READINESS, {})
    return checks
