"""The one JSON reader for FHIR data: exact decimals, and hostile numbers kept, not fatal.

Every entry point that reads patient data (the CLI, a posted Bundle, a CDS Hooks body
with its prefetch, a FHIR server's answers, the screening files) parses with
:func:`parse_json`. Python's :mod:`json` would otherwise refuse an integer of more than
4,300 digits (``ValueError``: a crash or a refused request), read ``1e400`` as
infinity, and accept ``NaN`` and ``Infinity``; and an exact :class:`~decimal.Decimal`
of ``1e25`` cannot be rounded to 3 places in the default decimal context (the 500 of
issue 9).

**The rule** (issue 9, criteria.md §7 "readable but not interpretable"): a JSON number
is a value a laboratory or an MDT could report only when it is finite, written in at
most :data:`MAX_NUMBER_CHARS` characters, and 0 or of a magnitude from
:data:`SMALLEST` up to (not including) :data:`LARGEST`. Exponent notation is allowed
inside those bounds (serialisers write ``1e-05`` for 0.00001); the largest value the
service reads, a platelet count in ``/uL``, is about 10⁶. Anything else (``1e25``,
``1e400``, a 5,000-digit integer, ``NaN``, ``Infinity``, ``1e-300``) becomes a
:class:`HostileNumber`: the document still parses, and the reader of that element
reports it as uninterpretable (its criterion ``unknown``, with a warning), never as 0.
"""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "LARGEST",
    "MAX_NUMBER_CHARS",
    "SMALLEST",
    "HostileNumber",
    "JsonTextError",
    "is_reportable",
    "parse_json",
]

MAX_NUMBER_CHARS = 40
LARGEST = Decimal("1e15")
SMALLEST = Decimal("1e-12")


class JsonTextError(ValueError):
    """The text is not JSON (or nests too deeply); the message says which, in words."""


class HostileNumber:
    """A JSON number no laboratory value can be; ``text`` is how it was written
    (shortened for a message). Not a number: arithmetic on it fails loudly."""

    __slots__ = ("text",)

    def __init__(self, literal: str) -> None:
        if len(literal) > 24:
            literal = f"{literal[:12]}…({len(literal)} characters)"
        self.text = literal

    def __repr__(self) -> str:
        return f"HostileNumber({self.text!r})"

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other: object) -> bool:
        return isinstance(other, HostileNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(("HostileNumber", self.text))


def is_reportable(value: Decimal) -> bool:
    """Say whether a number is inside the rule's bounds (finite, 0 or a sane magnitude)."""
    if not value.is_finite():
        return False
    magnitude = abs(value)
    return magnitude == 0 or SMALLEST <= magnitude < LARGEST


def _number(literal: str) -> Any:
    if len(literal) > MAX_NUMBER_CHARS:
        return HostileNumber(literal)
    try:
        value = Decimal(literal)
    except InvalidOperation:  # pragma: no cover - the JSON grammar gave a number
        return HostileNumber(literal)
    if not is_reportable(value):
        return HostileNumber(literal)
    return value


def _integer(literal: str) -> Any:
    if len(literal) <= 15:  # at most 15 digits (a sign included): always below LARGEST
        return int(literal)
    number = _number(literal)
    return int(literal) if isinstance(number, Decimal) else number


def parse_json(data: str | bytes) -> Any:
    """Parse JSON with exact decimals; numbers outside the rule become HostileNumber.

    Raises :class:`JsonTextError` for text that is not JSON or nests too deeply.
    """
    try:
        return json.loads(
            data, parse_float=_number, parse_int=_integer, parse_constant=HostileNumber
        )
    except (ValueError, UnicodeDecodeError) as exc:
        raise JsonTextError(f"the input is not valid JSON ({exc})") from exc
    except RecursionError as exc:
        raise JsonTextError("the input is nested too deeply") from exc
