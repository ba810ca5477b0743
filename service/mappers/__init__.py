"""FHIR R4 resources → :class:`~service.criteria.inputs.CriteriaInputs`.

Pure functions: no I/O. Use :func:`map_bundle` for a Bundle, or build a
:class:`PatientRecord` with :func:`record_from_resources` for resources fetched
one by one, then :func:`map_record`.
"""

from __future__ import annotations

from service.mappers.build import map_bundle, map_record
from service.mappers.bundle import (
    PatientRecord,
    load_bundle_json,
    record_from_bundle,
    record_from_resources,
)
from service.mappers.codes import DEFAULT_TERMINOLOGY, Terminology
from service.mappers.errors import BundleError, UnreadableError

__all__ = [
    "DEFAULT_TERMINOLOGY",
    "BundleError",
    "PatientRecord",
    "Terminology",
    "UnreadableError",
    "load_bundle_json",
    "map_bundle",
    "map_record",
    "record_from_bundle",
    "record_from_resources",
]
