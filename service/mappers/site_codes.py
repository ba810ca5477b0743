"""A site's local codes, added to the shipped code lists without code changes.

The mapping file is JSON::

    {
      "observations": {"ki67": [{"system": "urn:oid:1.2.3", "code": "KI67"}],
                       "future_liver_remnant": [{"system": "...", "code": "FLR"}]},
      "conditions":   {"extrahepatic_metastasis": [{"system": "...", "code": "..."}]},
      "primary_sites": [{"system": "...", "code": "...", "site": "ileum",
                         "drainage": "portal", "organ": "small intestine"}],
      "procedures":   {"primary_resection": [{"system": "...", "code": "...",
                                              "organ": "small intestine"}]}
    }

Keys of ``observations``, ``conditions`` and ``procedures`` are the input and
category names of :mod:`service.mappers.codes`; ``drainage`` is ``portal``,
``not_portal`` or ``undetermined``. Every section is optional. Codes are added,
never removed, and put in canonical form like incoming codings (OID systems, ICD-10-CM
dot and case). A malformed file fails with :class:`SiteCodesError` naming the entry.

``organ`` (v1.1, optional; one name or a list, from
:data:`service.mappers.sites.ORGANS`) says which organ a local primary-resection code
removes, or which organ holds a local primary site. A primary-resection code without
one counts as the resection of the primary whatever the primary's organ (as before
v1.1); a local primary site without one does not constrain which resection codes fit.

Review marks (the onboarding probe's draft, :mod:`service.probe.draft`): an entry may
carry ``"review"``; any value but ``"accepted"`` refuses the file, naming the entry, so
a draft is never applied unreviewed. Top-level keys starting with ``_`` and an entry's
``display``, ``seen`` and ``why`` are notes, ignored.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any, cast, get_args

from service.criteria.inputs import Drainage
from service.mappers.codes import DEFAULT_TERMINOLOGY, CodeSet, SiteOfPrimary, Terminology
from service.mappers.sites import ORGANS
from service.mappers.systems import canonical

__all__ = ["SiteCodesError", "load_terminology", "terminology_from_mapping"]

_SECTIONS = frozenset({"observations", "conditions", "primary_sites", "procedures"})
ACCEPTED = "accepted"
"""The only ``review`` value an applied entry may carry."""


class SiteCodesError(ValueError):
    """The site mapping file is missing or malformed; the message names the entry."""


def _code(item: Any, where: str) -> tuple[str, str]:
    if not isinstance(item, dict):
        raise SiteCodesError(f"{where}: expected an object with 'system' and 'code'")
    system, code = item.get("system"), item.get("code")
    if not isinstance(system, str) or not system or not isinstance(code, str) or not code:
        raise SiteCodesError(f"{where}: 'system' and 'code' must be non-empty strings")
    review = item.get("review", ACCEPTED)
    if review != ACCEPTED:
        display = item.get("display")
        named = f" ({display})" if isinstance(display, str) and display else ""
        raise SiteCodesError(
            f"{where}: {system}|{code}{named} is marked for review ({review!r}): check it, "
            f'then set "review": "{ACCEPTED}" or delete the entry'
        )
    return canonical(system, code)


def _organs(item: dict[str, Any], where: str) -> frozenset[str] | None:
    """Return the organs an entry names (``organ``: a name or a list), or ``None``."""
    if "organ" not in item:
        return None
    value = item["organ"]
    names = [value] if isinstance(value, str) else value
    if not isinstance(names, list) or not names or not all(isinstance(n, str) for n in names):
        raise SiteCodesError(f"{where}: 'organ' must be an organ name or a list of them")
    unknown = sorted(set(names) - ORGANS)
    if unknown:
        raise SiteCodesError(
            f"{where}: unknown organ {unknown[0]!r} (known: {', '.join(sorted(ORGANS))})"
        )
    return frozenset(names)


def _procedure_organs(section: Any, base: Terminology) -> dict[tuple[str, str], frozenset[str]]:
    organs = dict(base.procedure_organs)
    if not isinstance(section, dict) or not isinstance(section.get("primary_resection"), list):
        return organs  # malformed sections are reported by _extend
    for index, item in enumerate(section["primary_resection"]):
        where = f"procedures.primary_resection[{index}]"
        named = _organs(item, where) if isinstance(item, dict) else None
        if named is not None:
            organs[_code(item, where)] = named
    return organs


def _extend(defaults: Mapping[str, CodeSet], section: Any, name: str) -> dict[str, CodeSet]:
    if section is None:
        return dict(defaults)
    if not isinstance(section, dict):
        raise SiteCodesError(f"{name}: expected an object")
    extended = dict(defaults)
    for key, items in section.items():
        if key not in defaults:
            raise SiteCodesError(
                f"{name}.{key}: unknown name (known: {', '.join(sorted(defaults))})"
            )
        if not isinstance(items, list):
            raise SiteCodesError(f"{name}.{key}: expected a list of codes")
        codes = [_code(item, f"{name}.{key}[{i}]") for i, item in enumerate(items)]
        extended[key] = extended[key].extended(codes)
    return extended


def _primary_sites(section: Any, base: Terminology) -> dict[tuple[str, str], SiteOfPrimary]:
    sites = dict(base.primary_sites)
    if section is None:
        return sites
    if not isinstance(section, list):
        raise SiteCodesError("primary_sites: expected a list")
    for index, item in enumerate(section):
        where = f"primary_sites[{index}]"
        code = _code(item, where)
        drainage, site = item.get("drainage"), item.get("site")
        if drainage not in get_args(Drainage):
            raise SiteCodesError(f"{where}: drainage must be portal, not_portal or undetermined")
        if not isinstance(site, str) or not site.strip():
            raise SiteCodesError(f"{where}: 'site' must name the site")
        organs = _organs(item, where)  # None: no organ named, constrains nothing
        sites[code] = SiteOfPrimary(site.strip(), cast(Drainage, drainage), organs)
    return sites


def terminology_from_mapping(mapping: Any, base: Terminology = DEFAULT_TERMINOLOGY) -> Terminology:
    """Return ``base`` extended with a parsed mapping file."""
    if not isinstance(mapping, dict):
        raise SiteCodesError("the site mapping must be a JSON object")
    unknown = {key for key in mapping if not str(key).startswith("_")} - _SECTIONS
    if unknown:
        raise SiteCodesError(f"unknown section(s): {', '.join(sorted(unknown))}")
    return Terminology(
        observations=_extend(base.observations, mapping.get("observations"), "observations"),
        conditions=_extend(base.conditions, mapping.get("conditions"), "conditions"),
        procedures=_extend(base.procedures, mapping.get("procedures"), "procedures"),
        primary_sites=_primary_sites(mapping.get("primary_sites"), base),
        procedure_organs=_procedure_organs(mapping.get("procedures"), base),
    )


def load_terminology(path: str | os.PathLike[str] | None) -> Terminology:
    """Return the shipped terminology, extended by the mapping file at ``path``."""
    if path is None:
        return DEFAULT_TERMINOLOGY
    try:
        with open(path, encoding="utf-8") as file:
            mapping = json.loads(file.read())
    except OSError as exc:
        raise SiteCodesError(f"site codes file {path}: cannot be read ({exc.strerror})") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SiteCodesError(f"site codes file {path}: not valid JSON ({exc})") from exc
    try:
        return terminology_from_mapping(mapping)
    except SiteCodesError as exc:
        raise SiteCodesError(f"site codes file {path}: {exc}") from exc
