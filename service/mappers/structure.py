"""Check a resource against the FHIR R4 structure: element names, JSON types, formats.

This is the validation behind every value a decision uses (criteria.md §7: a resource
that is not valid FHIR R4 is skipped and reported). It walks the resource once
against element tables generated from the fhir.resources R4B models
(:mod:`service.mappers.r4_tables`) and checks, as the FHIR JSON format says:

- every element is one the type defines (an unknown name, a typo of ``valueQuantity``
  included, makes the resource unreadable), and ``_name`` primitive extensions;
- repeating elements are lists and single ones are not; no ``null`` outside the lists
  that pair primitives with their ``_name`` extensions;
- primitives have their JSON type (a string is not a number, ``"true"`` is not a
  boolean) and the R4 format (code, id, uri, date, dateTime, instant, time, decimal,
  integer ranges, ...), dates on the calendar;
- required elements are present (the R4 1..1 ``subject`` of a Condition or Procedure
  excepted: criteria.md §7 attributes a subject-less resource of a one-Patient Bundle to
  that Patient), and at most one of a choice (``value[x]``) appears.

It is stricter than fhir.resources, which coerces ``"1"`` to an integer and ``"true"``
to a boolean and lets a code outside its value set through (the readers check the codes
they read). One thing is checked less: a ``contained`` resource must be an object with
a ``resourceType``, but its content is not walked, because no decision ever uses a
value from a contained resource (criteria.md §7, v1.1: such a value is a warning).
``tests/unit/mappers/test_structure.py`` holds both differences to fhir.resources.

Cost: one dict lookup and one type check per element (some 40 times less than building
the pydantic models, and nothing to import), so the resources that decide something
can all be checked on every evaluation.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from service.criteria.values import FHIR_DATE
from service.mappers.errors import UnreadableError
from service.mappers.json_text import HostileNumber
from service.mappers.r4_tables import ELEMENTS, REQUIRED_CHOICES

__all__ = ["ElementLimitError", "check_structure", "is_r4_id"]

# The R4 patterns are XML Schema regular expressions, whose \s is only space, tab, CR and
# LF. Where Python's wider \s would refuse text R4 takes (a no-break space in a name),
# the check follows R4 or fhir.resources, whichever is stricter, never stricter than both.
_XSD_SPACE = re.compile(r"[ \t\r\n]+")
_TIME_OF_DAY = r"([01][0-9]|2[0-3]):[0-5][0-9]:([0-5][0-9]|60)(\.[0-9]+)?"
_CODE = r"[^\s]+(\s[^\s]+)*"  # Unicode \s, as fhir.resources: "\u3000" is no code
_ID_CHARACTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-.")
_OID = r"urn:oid:[0-2](\.(0|[1-9][0-9]*))+"
_UUID = r"urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
_BASE64_ALPHABET = r"[0-9a-zA-Z+/=]+"
_INT32 = (-(2**31), 2**31 - 1)


class ElementLimitError(UnreadableError):
    """The resource holds more elements than the caller allowed (the walk stopped there)."""


def _on_calendar(text: str) -> bool:
    """Say whether a full date at the start of ``text`` exists (no 30 February)."""
    if len(text) < 10:
        return True
    try:
        date.fromisoformat(text[:10])
    except ValueError:
        return False
    return True


def _matches(pattern: str) -> Callable[[Any], bool]:
    """Return a check of a whole string against ``pattern``, compiled (and kept by
    :mod:`re`) when first used: most of the patterns are never needed in a run, and
    compiling them all takes milliseconds."""
    return lambda value: isinstance(value, str) and re.fullmatch(pattern, value) is not None


def is_r4_id(value: Any) -> bool:
    r"""Say whether ``value`` is an R4 id, ``[A-Za-z0-9\-.]{1,64}``: its characters tested
    against a set, three times as fast as the pattern (every resource has an id)."""
    return isinstance(value, str) and 0 < len(value) <= 64 and _ID_CHARACTERS.issuperset(value)


def _string(value: Any) -> bool:
    """R4's string pattern ``[ \\r\\n\\t\\S]`` searched (as fhir.resources does), without the
    regex: some character is a space, tab, CR or LF, or is not whitespace."""
    if not isinstance(value, str) or not value:
        return False
    return not value.isspace() or any(c in " \t\r\n" for c in value)


_code_pattern = _matches(_CODE)


def _code(value: Any) -> bool:
    """``_CODE``, without the regex for the usual code (printable ASCII, where the only
    whitespace is the space): no space at either end, none doubled."""
    if isinstance(value, str) and value.isascii() and value.isprintable():
        return bool(value) and value[0] != " " and value[-1] != " " and "  " not in value
    return _code_pattern(value)


def _uri(value: Any) -> bool:
    """R4's uri pattern ``\\S*`` (XML Schema's ``\\S``), without the regex: no space, tab,
    CR or LF."""
    return (
        isinstance(value, str)
        and " " not in value
        and "\t" not in value
        and "\r" not in value
        and "\n" not in value
    )


def _date_time(value: Any) -> bool:
    """R4's dateTime, on the calendar, through the pattern the readers parse dates with
    (:data:`~service.criteria.values.FHIR_DATE`: the same grammar, but year 0000), so no
    date pattern is compiled here: each took most of a millisecond of every CLI start."""
    return (
        isinstance(value, str)
        and FHIR_DATE.fullmatch(value) is not None
        and not value.startswith("0000")
        and _on_calendar(value)
    )


def _date(value: Any) -> bool:
    """R4's date: a dateTime without a time (a time needs the full date, so 11+ characters)."""
    return _date_time(value) and len(value) <= 10


def _instant(value: Any) -> bool:
    """R4's instant: a dateTime with a time (then the date is full and the zone given)."""
    return _date_time(value) and "T" in value


def _base64(value: Any) -> bool:
    """R4's ``(\\s*([0-9a-zA-Z+/=]){4}\\s*)+`` without its regex, which backtracks for
    seconds on a long run of spaces before a bad character (a hostile ``photo.data``):
    groups of four alphabet characters, whitespace only between groups."""
    if not isinstance(value, str):
        return False
    words = [word for word in _XSD_SPACE.split(value) if word]
    return bool(words) and all(len(word) % 4 == 0 for word in words) and _alphabet("".join(words))


_alphabet = _matches(_BASE64_ALPHABET)


def _integer(low: int) -> Callable[[Any], bool]:
    # A number no laboratory can report is the value readers' business (uninterpretable,
    # criteria.md §7), not a structural fault that would skip the whole resource.
    return lambda value: (
        isinstance(value, HostileNumber) or (type(value) is int and low <= value <= _INT32[1])
    )


def _decimal(value: Any) -> bool:
    kind = type(value)
    if kind is Decimal:
        return value.is_finite()  # type: ignore[no-any-return]
    if kind is int or isinstance(value, HostileNumber):
        return True
    if isinstance(value, Decimal):
        return value.is_finite()
    return isinstance(value, float) and math.isfinite(value)


_PRIMITIVES: dict[str, Callable[[Any], bool]] = {
    "string": _string,
    "markdown": _string,
    "xhtml": _string,
    "code": _code,
    "id": is_r4_id,
    "uri": _uri,
    "url": _uri,
    "canonical": _uri,
    "oid": _matches(_OID),
    "uuid": _matches(_UUID),
    "base64Binary": _base64,
    "date": _date,
    "dateTime": _date_time,
    "instant": _instant,
    "time": _matches(_TIME_OF_DAY),
    "boolean": lambda value: value is True or value is False,
    "integer": _integer(_INT32[0]),
    "integer64": _integer(-(2**63)),
    "unsignedInt": _integer(0),
    "positiveInt": _integer(1),
    "decimal": _decimal,
}

_NOT_REQUIRED_HERE = frozenset({("Condition", "subject"), ("Procedure", "subject")})
_REQUIRED: dict[str, tuple[str, ...]] = {
    type_name: tuple(
        name
        for name, spec in table.items()
        if spec[2] and (type_name, name) not in _NOT_REQUIRED_HERE
    )
    for type_name, table in ELEMENTS.items()
}


class _InvalidError(Exception):
    """What is wrong, and the path to it, built innermost first as it propagates (so
    valid elements, nearly all of them, cost no path strings)."""

    def __init__(self, reason: str, name: str | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.path: list[str] = [] if name is None else [name]


_Check = Callable[[Any], bool] | None
_Resolved = tuple[str, _Check, bool, str]
"""(type, its primitive check or ``None`` for a complex type, repeats, choice group)."""


def _resolved(type_name: str) -> dict[str, _Resolved]:
    """Return the type's element table with each primitive's check looked up once."""
    table = _RESOLVED.get(type_name)
    if table is None:
        table = {
            name: (kind, _PRIMITIVES.get(kind), repeats, group)
            for name, (kind, repeats, _required, group) in ELEMENTS[type_name].items()
        }
        _RESOLVED[type_name] = table
    return table


_RESOLVED: dict[str, dict[str, _Resolved]] = {}


def _check_one(value: Any, kind: str, check: _Check, left: list[int]) -> None:
    if check is not None:
        if not check(value):
            raise _InvalidError(f"not a valid {kind}")
    elif kind == "Resource":
        if type(value) is not dict or type(value.get("resourceType")) is not str:
            raise _InvalidError("not a resource")
    else:
        _check_object(value, kind, left)


def _check_list(value: Any, kind: str, check: _Check, left: list[int]) -> None:
    if type(value) is not list:
        raise _InvalidError("not a list")
    left[0] -= len(value)
    if left[0] < 0:
        raise ElementLimitError
    # Lists of primitives line up with their ``_name`` lists, in which either side may
    # hold null where the other holds the item (FHIR JSON "Representations").
    nullable = check is not None or kind == "Element"
    for index, item in enumerate(value):
        if item is None and nullable:
            continue
        try:
            _check_one(item, kind, check, left)
        except _InvalidError as exc:
            exc.path.append(f"[{index}]")
            raise


def _check_object(node: Any, type_name: str, left: list[int], top: bool = False) -> None:
    if type(node) is not dict:
        raise _InvalidError("not an object")
    left[0] -= len(node)
    if left[0] < 0:
        raise ElementLimitError
    table = _resolved(type_name)
    choices: set[str] | None = None
    for name, value in node.items():
        spec = table.get(name)
        if spec is None:
            if top and name == "resourceType":
                continue
            raise _InvalidError("unknown element", name)
        kind, check, repeats, group = spec
        try:
            if value is None:
                raise _InvalidError("null is not a value")
            if group:
                choices = choices if choices is not None else set()
                if group in choices:
                    raise _InvalidError(f"more than one {group}[x]")
                choices.add(group)
            if repeats:
                _check_list(value, kind, check, left)
            elif type(value) is list:
                raise _InvalidError("a list where one value is expected")
            else:
                _check_one(value, kind, check, left)
        except _InvalidError as exc:
            exc.path.append(name)
            raise
    for name in _REQUIRED[type_name]:
        if name not in node and not node.get(f"_{name}"):  # FHIR: an empty {} is no value
            raise _InvalidError("required element missing", name)
    for group in REQUIRED_CHOICES.get(type_name, ()):
        if choices is None or group not in choices:
            raise _InvalidError("required element missing", f"{group}[x]")


def check_structure(resource: dict[str, Any], resource_type: str, left: list[int]) -> None:
    """Raise :class:`UnreadableError` naming the first element of ``resource`` that is not
    valid FHIR R4 ``resource_type`` (the element path and what is wrong, never its value,
    so the message can be shown and logged); return quietly when it is valid.

    ``left[0]`` is how many elements (values, objects, list items) the walk may visit; it
    is decreased by those visited, and past zero the walk stops with
    :class:`ElementLimitError`, so a hostile resource costs no more than the allowance.
    ``resource_type`` must be one of the resource types of
    :data:`~service.mappers.r4_tables.ELEMENTS` (Patient, Observation, Condition,
    Procedure).
    """
    try:
        if resource.get("resourceType") != resource_type:
            raise _InvalidError(f"not {resource_type}")
        left[0] -= 1
        _check_object(resource, resource_type, left, top=True)
    except _InvalidError as exc:
        path = "".join(
            part if part.startswith("[") or index == 0 else f".{part}"
            for index, part in enumerate(reversed(exc.path))
        )
        raise UnreadableError(f"not valid FHIR R4: {path or 'resource'}: {exc.reason}") from None
    except RecursionError:
        raise UnreadableError("not valid FHIR R4: resource: nested too deeply") from None
