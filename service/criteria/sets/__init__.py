"""The published criteria sets, in the order results list them."""

from __future__ import annotations

from service.criteria.model import CriteriaSet
from service.criteria.sets.enets import ENETS
from service.criteria.sets.milan_net import MILAN_NET
from service.criteria.sets.resection import RESECTION
from service.criteria.sets.unos import UNOS

__all__ = ["DEFAULT_SETS"]

DEFAULT_SETS: tuple[CriteriaSet, ...] = (MILAN_NET, ENETS, UNOS, RESECTION)
