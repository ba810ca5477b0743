"""The criteria documentation shipped with the service, generated from the criteria.

:func:`criteria_reference` builds it as data (:mod:`~service.reference.document`);
:func:`criteria_markdown` renders ``docs/criteria.md``
(:mod:`~service.reference.markdown`); the page ``GET /criteria`` renders the same data
(:mod:`service.pages.criteria`).
"""

from __future__ import annotations

from service.reference.document import CriteriaReference, criteria_reference
from service.reference.markdown import criteria_markdown

__all__ = ["CriteriaReference", "criteria_markdown", "criteria_reference"]
