"""Primary-tumour sites and the organs a primary resection removes (terminology.md).

A primary-site code says where the primary is, whether the portal system drains it,
and which organ holds it. A primary-resection Procedure code names the organ it
removes; since v1.1 it counts as the resection of the primary only when that organ
holds a recorded primary site (or no site is recorded). Organs are named from
:data:`ORGANS`; a site-mapped local code may name its organ (see
:mod:`service.mappers.site_codes`).
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from service.criteria.inputs import Drainage
from service.mappers.systems import ICD10CM, SNOMED, Code
from service.records import Struct

__all__ = [
    "ORGANS",
    "PRIMARY_SITES",
    "PROCEDURE_ORGANS",
    "SiteOfPrimary",
]

ORGANS = frozenset(
    {
        "pancreas",
        "duodenum",
        "small intestine",
        "appendix",
        "colon",
        "rectum",
        "stomach",
        "lung",
        "thymus",
        "kidney",
    }
)
"""The organs a site or procedure code may name."""


class SiteOfPrimary(Struct, frozen=True):
    """What a primary-site code says: where, portal drainage, and the organs holding it.

    ``organs`` is empty when the code does not locate the primary in an organ
    (unspecified, foregut, hindgut, unknown primary): no resection code fits it. ``None``
    (a site-mapped local code without an organ) says nothing either way: it does not
    constrain which resection codes fit. ``unknown_primary`` marks "metastasis of
    unknown primary".
    """

    site: str
    drainage: Drainage
    organs: frozenset[str] | None = frozenset()
    unknown_primary: bool = False


def _site(site: str, drainage: Drainage, *organs: str) -> SiteOfPrimary:
    return SiteOfPrimary(site, drainage, frozenset(organs))


_SMALL_BOWEL = "small intestine"
_PORTAL_SITES: dict[Code, SiteOfPrimary] = {
    (ICD10CM, "C25.4"): _site("pancreas", "portal", "pancreas"),
    (SNOMED, "93843007"): _site("pancreas", "portal", "pancreas"),
    (ICD10CM, "C7A.010"): _site("duodenum", "portal", "duodenum", _SMALL_BOWEL),
    (ICD10CM, "C7A.011"): _site("jejunum", "portal", _SMALL_BOWEL),
    (ICD10CM, "C7A.012"): _site("ileum", "portal", _SMALL_BOWEL),
    (ICD10CM, "C7A.019"): _site("small intestine", "portal", _SMALL_BOWEL),
    (ICD10CM, "C7A.020"): _site("appendix", "portal", "appendix"),
    (ICD10CM, "C7A.021"): _site("caecum", "portal", "colon"),
    (ICD10CM, "C7A.022"): _site("ascending colon", "portal", "colon"),
    (ICD10CM, "C7A.023"): _site("transverse colon", "portal", "colon"),
    (ICD10CM, "C7A.024"): _site("descending colon", "portal", "colon"),
    (ICD10CM, "C7A.025"): _site("sigmoid colon", "portal", "colon"),
    (ICD10CM, "C7A.092"): _site("stomach", "portal", "stomach"),
    (ICD10CM, "C7A.095"): _site("midgut", "portal", _SMALL_BOWEL),
}
_NOT_PORTAL_SITES: dict[Code, SiteOfPrimary] = {
    (ICD10CM, "C7A.090"): _site("lung/bronchus", "not_portal", "lung"),
    (ICD10CM, "C7A.091"): _site("thymus", "not_portal", "thymus"),
    (ICD10CM, "C7A.093"): _site("kidney", "not_portal", "kidney"),
    (ICD10CM, "C7A.026"): _site("rectum", "not_portal", "rectum"),
    (SNOMED, "285613005"): SiteOfPrimary("unknown primary", "not_portal", unknown_primary=True),
}
_UNDETERMINED_SITES: dict[Code, SiteOfPrimary] = {
    (ICD10CM, "C7A.00"): _site("unspecified site", "undetermined"),
    (ICD10CM, "C7A.029"): _site("large intestine, unspecified", "undetermined"),
    (ICD10CM, "C7A.094"): _site("foregut, unspecified", "undetermined"),
    (ICD10CM, "C7A.096"): _site("hindgut, unspecified", "undetermined"),
    (ICD10CM, "C7A.098"): _site("other site", "undetermined"),
    (ICD10CM, "C7A.8"): _site("other site", "undetermined"),
    (SNOMED, "445238008"): _site("site not given (malignant carcinoid)", "undetermined"),
    (SNOMED, "443492008"): _site("site not given (carcinoid)", "undetermined"),
}
PRIMARY_SITES: Mapping[Code, SiteOfPrimary] = MappingProxyType(
    {**_PORTAL_SITES, **_NOT_PORTAL_SITES, **_UNDETERMINED_SITES}
)
"""terminology.md "Portal drainage of the primary", with the organ of each site."""

PROCEDURE_ORGANS: Mapping[Code, frozenset[str]] = MappingProxyType(
    {
        (SNOMED, "107938000"): frozenset({_SMALL_BOWEL}),
        (SNOMED, "116241004"): frozenset({"pancreas", "duodenum"}),
        (SNOMED, "80146002"): frozenset({"appendix"}),
        (SNOMED, "173171007"): frozenset({"lung"}),
    }
)
"""terminology.md "Procedures": the organ each primary-resection code removes."""
