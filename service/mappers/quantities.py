"""Turn FHIR Quantities, Ranges and value strings into normalised intervals.

UCUM first: when a Quantity carries a UCUM ``code`` that code alone decides (case-
sensitive). Otherwise the free-text ``unit`` is matched case-insensitively against
the input's list of spellings seen in practice (terminology.md). Anything else is
an unrecognised unit: the value is not interpreted (never guessed), and a bare
number without a unit is never assumed to be in any unit. Arithmetic is decimal.
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import cached_property
from typing import Any

from service.criteria.values import Interval
from service.mappers.codes import UCUM
from service.mappers.errors import UnreadableError
from service.mappers.json_text import MAX_NUMBER_CHARS, HostileNumber, is_reportable
from service.records import Struct

__all__ = [
    "BILIRUBIN",
    "PERCENT",
    "PLATELETS",
    "UninterpretableError",
    "UnitTable",
    "read_number",
]

ONE = Decimal(1)
MICROMOL_PER_MG_DL = Decimal("17.104")
"""1 mg/dL of bilirubin = 17.104 µmol/L (criteria.md §3)."""


class UninterpretableError(ValueError):
    """A readable value that cannot be interpreted (unrecognised unit, odd string)."""


class UnitTable(Struct, frozen=True, dict=True):
    """Units accepted for one input: UCUM codes and free-text spellings, each with a
    divisor that converts to ``normalised``."""

    normalised: str
    ucum: dict[str, Decimal]
    text: dict[str, Decimal]

    def divisor(self, quantity: dict[str, Any], where: str) -> Decimal:
        """Return the divisor to normalise this Quantity's unit, or raise
        :class:`UninterpretableError` naming the unit."""
        code, system, unit = quantity.get("code"), quantity.get("system"), quantity.get("unit")
        if system == UCUM and isinstance(code, str):
            divisor = self.ucum.get(code)
            if divisor is not None:
                return divisor
            raise UninterpretableError(f"unrecognised UCUM unit '{code}' on {where}")
        if isinstance(unit, str) and unit.strip():
            found = self.text_divisor(unit)
            if found is not None:
                return found
            raise UninterpretableError(f"unrecognised unit '{unit}' on {where}")
        if isinstance(code, str) and code.strip():
            raise UninterpretableError(f"unit code '{code}' without the UCUM system on {where}")
        raise UninterpretableError(f"value without a unit on {where}")

    def text_divisor(self, spelling: str) -> Decimal | None:
        """Return the divisor for a free-text unit spelling, or ``None``."""
        return self._folded_text.get(spelling.strip().casefold())

    @cached_property
    def _folded_text(self) -> dict[str, Decimal]:
        return {key.casefold(): value for key, value in self.text.items()}


PERCENT = UnitTable("%", {"%": ONE}, {"%": ONE, "percent": ONE})

BILIRUBIN = UnitTable(
    "mg/dL",
    # UCUM has both "L" and "l" for the litre, so the lower-case forms are UCUM too.
    {"mg/dL": ONE, "mg/dl": ONE, "umol/L": MICROMOL_PER_MG_DL, "umol/l": MICROMOL_PER_MG_DL},
    {
        "mg/dL": ONE,
        "umol/L": MICROMOL_PER_MG_DL,
        "µmol/L": MICROMOL_PER_MG_DL,  # MICRO SIGN U+00B5
        "μmol/L": MICROMOL_PER_MG_DL,  # GREEK SMALL LETTER MU U+03BC
    },
)

_THOUSAND = Decimal(1000)
PLATELETS = UnitTable(
    "10*9/L",
    {
        "10*3/uL": ONE,
        "10*3/ul": ONE,
        "10*9/L": ONE,
        "10*9/l": ONE,
        "10*3/mm3": ONE,
        "/uL": _THOUSAND,
        "/ul": _THOUSAND,
        "/mm3": _THOUSAND,
    },
    {
        "10*3/uL": ONE,
        "10*9/L": ONE,
        "K/uL": ONE,
        "x10(3)/mcL": ONE,
        "10^3/uL": ONE,
        "10^9/L": ONE,
        "x10^9/L": ONE,
        "thou/mm3": ONE,
        "G/L": ONE,
        # v1.1 (terminology.md)
        "10^3/mm3": ONE,
        "10*3/mm3": ONE,
        "x10^3/uL": ONE,
        "x10E3/uL": ONE,
        "x10E9/L": ONE,
        "10E9/L": ONE,
        "x10(9)/L": ONE,
        "/uL": _THOUSAND,
        "/mm3": _THOUSAND,
        "/mcL": _THOUSAND,
    },
)

MAX_VALUE_STRING = 100
"""A longer ``valueString`` is no number with a unit (and is not searched for one)."""
_COMPARATORS = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "≤": "<=", "≥": ">="}
_NUMBER = r"[0-9]+(?:\.[0-9]+)?"
# Patterns, compiled (and cached by re) when a valueString is first read: most runs read
# none, and compiling them took most of a millisecond of every CLI start.
_SINGLE = rf"^\s*(?P<cmp><=|>=|<|>|≤|≥)?\s*(?P<num>{_NUMBER})\s*(?P<unit>\S.*?)?\s*$"
_RANGE = rf"^\s*(?P<low>{_NUMBER})\s*-\s*(?P<high>{_NUMBER})\s*(?P<unit>\S.*?)?\s*$"


def to_decimal(value: Any, where: str, field: str) -> Decimal:
    """Return a JSON number as an exact Decimal.

    Raises :class:`UnreadableError` when it is not a number at all (a string, a boolean)
    and :class:`UninterpretableError` when it is a number no laboratory value can be
    (:mod:`service.mappers.json_text`: ``1e25``, ``1e400``, a 5,000-digit integer,
    ``NaN``, ``Infinity``): the result stays the latest and decides nothing.
    """
    if type(value) is Decimal:  # the usual case: a number as the service parses JSON
        number = value
    elif isinstance(value, HostileNumber):
        raise UninterpretableError(f"{field} {value} is not a value a laboratory can report")
    elif isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise UnreadableError(f"{field} is not a number")
    else:  # str() of a float is its shortest round-trip form, so 20.5248 stays 20.5248.
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    if not is_reportable(number):
        shown = HostileNumber(str(value))
        raise UninterpretableError(f"{field} {shown} is not a value a laboratory can report")
    return number


def _quantity_interval(
    quantity: Any, table: UnitTable, where: str, field: str, allow_comparator: bool
) -> Interval:
    if not isinstance(quantity, dict):
        raise UnreadableError(f"{field} is not an object")
    if "value" not in quantity:
        raise UnreadableError(f"{field} has no value")
    number = to_decimal(quantity["value"], where, f"{field}.value")
    comparator = quantity.get("comparator")
    if comparator is not None and (
        not allow_comparator or comparator not in ("<", "<=", ">", ">=")
    ):
        raise UnreadableError(f"{field}.comparator {comparator!r} is not valid")
    for key in ("unit", "code", "system"):
        if key in quantity and not isinstance(quantity[key], str):
            raise UnreadableError(f"{field}.{key} is not a string")
    divisor = table.divisor(quantity, where)
    # Normalised first, then bounded: one Interval (the same bounds as scaling it after).
    return Interval.from_comparator(comparator, number / divisor)


def read_quantity(quantity: Any, table: UnitTable, where: str, field: str) -> Interval:
    """Read a Quantity (with optional comparator) into a normalised interval."""
    return _quantity_interval(quantity, table, where, field, allow_comparator=True)


def read_simple_quantity(quantity: Any, table: UnitTable, where: str, field: str) -> Decimal:
    """Read a SimpleQuantity (no comparator) into a normalised number."""
    interval = _quantity_interval(quantity, table, where, field, allow_comparator=False)
    if interval.low is None:  # a Quantity without comparator is always a point
        raise UnreadableError(f"{field} is not a single value")
    return interval.low


def read_range(value: Any, table: UnitTable, where: str) -> Interval:
    """Read a valueRange into a closed normalised interval (a missing side is open)."""
    if not isinstance(value, dict) or not ({"low", "high"} & value.keys()):
        raise UnreadableError("valueRange has neither low nor high")
    low = high = None
    if "low" in value:
        low = read_simple_quantity(value["low"], table, where, "valueRange.low")
    if "high" in value:
        high = read_simple_quantity(value["high"], table, where, "valueRange.high")
    if low is not None and high is not None and low > high:
        raise UnreadableError("valueRange.low is greater than valueRange.high")
    return Interval(low, high)


def parse_value_string(text: str, table: UnitTable, where: str) -> Interval:
    """Parse ``15%``, ``<2 %``, ``≥ 5 %``, ``5-10%``: comparator, number with ``.``
    decimals, recognised unit; or a range ``a-b unit``. Anything else is
    :class:`UninterpretableError`."""
    if len(text) > MAX_VALUE_STRING:
        raise UninterpretableError(f"value string of {len(text)} characters on {where}")
    for pattern in (_RANGE, _SINGLE):
        match = re.match(pattern, text)
        if match is None:
            continue
        unit = match["unit"]
        if unit is None:
            raise UninterpretableError(f"value string '{text}' has no unit on {where}")
        divisor = table.text_divisor(unit)
        if divisor is None:
            raise UninterpretableError(f"unrecognised unit '{unit}' in value string on {where}")
        numbers = [match[g] for g in ("low", "high", "num") if g in match.groupdict()]
        if any(n is not None and not is_reportable(Decimal(n)) for n in numbers) or any(
            n is not None and len(n) > MAX_NUMBER_CHARS for n in numbers
        ):
            raise UninterpretableError(
                f"value string '{HostileNumber(text)}' is not a value a laboratory can report "
                f"on {where}"
            )
        if pattern is _RANGE:
            low, high = Decimal(match["low"]), Decimal(match["high"])
            if low > high:
                raise UninterpretableError(f"value string '{text}' is an empty range on {where}")
            return Interval(low, high).scaled(divisor, divide=True)
        comparator = _COMPARATORS.get(match["cmp"]) if match["cmp"] else None
        interval = Interval.from_comparator(comparator, Decimal(match["num"]))
        return interval.scaled(divisor, divide=True)
    raise UninterpretableError(f"value string '{text}' cannot be interpreted on {where}")


VALUE_KEYS = (
    "valueQuantity",
    "valueCodeableConcept",
    "valueString",
    "valueBoolean",
    "valueInteger",
    "valueRange",
    "valueRatio",
    "valueSampledData",
    "valueTime",
    "valueDateTime",
    "valuePeriod",
)


def value_key(resource: dict[str, Any]) -> str | None:
    """Return the name of the Observation's value[x] element, if it has one."""
    for key in VALUE_KEYS:
        if key in resource:
            return key
    return None


def read_number(resource: dict[str, Any], table: UnitTable, where: str) -> Interval:
    """Read an Observation's numeric value into a normalised interval.

    Raises :class:`UnreadableError` (wrong type, impossible value: skip the resource) or
    :class:`UninterpretableError` (keep it as the latest result, decide nothing).
    """
    key = value_key(resource)
    if key == "valueQuantity":
        return read_quantity(resource[key], table, where, key)
    if key == "valueRange":
        return read_range(resource[key], table, where)
    if key == "valueString":
        text = resource[key]
        if not isinstance(text, str):
            raise UnreadableError("valueString is not a string")
        return parse_value_string(text, table, where)
    if key == "valueInteger":
        to_decimal(resource[key], where, key)
        raise UninterpretableError(f"value without a unit on {where}")
    raise UninterpretableError(f"{key} cannot be read as a number in {table.normalised} on {where}")
