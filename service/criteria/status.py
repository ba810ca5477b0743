"""The three-valued criterion status and the set status derived from it (criteria.md §1)."""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

__all__ = ["SetStatus", "Status", "combine_all", "set_status"]


class Status(StrEnum):
    """The outcome of one criterion: positive evidence for, against, or neither."""

    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class SetStatus(StrEnum):
    """The outcome of a criteria set."""

    ELIGIBLE = "eligible"
    INELIGIBLE = "ineligible"
    INDETERMINATE = "indeterminate"


def combine_all(statuses: Iterable[Status]) -> Status:
    """Combine statuses with three-valued AND: any not_met wins, then any unknown."""
    seen = set(statuses)
    if Status.NOT_MET in seen:
        return Status.NOT_MET
    if Status.UNKNOWN in seen or not seen:
        return Status.UNKNOWN
    return Status.MET


def set_status(statuses: Iterable[Status]) -> SetStatus:
    """Return the set status of criteria.md §1 for its criteria's statuses."""
    combined = combine_all(statuses)
    if combined is Status.NOT_MET:
        return SetStatus.INELIGIBLE
    if combined is Status.MET:
        return SetStatus.ELIGIBLE
    return SetStatus.INDETERMINATE
