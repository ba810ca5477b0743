"""Value types the criteria reason about: partial dates, intervals and evidence.

Everything here is exact: dates are calendar days (a partial date is the span of
days it could be), numbers are :class:`decimal.Decimal` and a measured value is an
:class:`Interval`, so a comparator (``<1 %``) or a range (``5-10 %``) is decided
only when the whole interval lies on one side of a threshold (criteria.md §3).
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from service.criteria.status import Status
from service.records import Struct

__all__ = [
    "FHIR_DATE",
    "DateSpan",
    "DateFormatError",
    "Evidence",
    "Interval",
    "parse_fhir_date",
]

FHIR_DATE = re.compile(
    r"^(?P<year>[0-9]{4})"
    r"(?:-(?P<month>0[1-9]|1[0-2])"
    r"(?:-(?P<day>0[1-9]|[12][0-9]|3[01])"
    r"(?:T(?:[01][0-9]|2[0-3]):[0-5][0-9]:(?:[0-5][0-9]|60)(?:\.[0-9]+)?"
    r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00)))?"
    r")?)?$"
)
"""R4's dateTime grammar (the FHIR datatypes page's pattern, in groups), but year 0000;
use ``fullmatch`` (``$`` would take a final newline). Dates and instants are dateTimes
without, and with, a time; that the day exists is checked apart."""


class DateFormatError(ValueError):
    """A string is not a valid FHIR date, dateTime or instant."""


class DateSpan(Struct, frozen=True, order=True):
    """The calendar days a FHIR date could stand for.

    ``2026-03-04T10:00:00+01:00`` is the single day 2026-03-04 (the day as recorded:
    dates compare as calendar days, criteria.md §7); ``1971`` is every day of 1971.
    A test on a span is decided only if it holds for every day in it.
    """

    earliest: date
    latest: date
    text: str

    @property
    def label(self) -> str:
        """Return the day (``2026-03-01``) or, for a partial date, the text as given."""
        return self.earliest.isoformat() if self.is_exact else self.text

    @property
    def is_exact(self) -> bool:
        """Say whether the span is a single day."""
        return self.earliest == self.latest

    def is_after(self, day: date) -> bool:
        """Say whether every day of the span is after ``day``."""
        return self.earliest > day


def parse_fhir_date(text: str) -> DateSpan:
    """Parse a FHIR date, dateTime or instant into the span of days it covers.

    Raises :class:`DateFormatError` for anything that is not valid FHIR or not a real
    calendar day (``2026-02-30``).
    """
    match = FHIR_DATE.fullmatch(text)
    if match is None or text.startswith("0000"):  # no year 0 in FHIR
        raise DateFormatError(f"'{text}' is not a valid FHIR date")
    if len(text) >= 10:  # the usual case: a whole day (with a time, maybe)
        try:
            exact = date.fromisoformat(text[:10])
        except ValueError as exc:  # the pattern allows 31 in any month
            raise DateFormatError(f"'{text}' is not a real calendar day") from exc
        return DateSpan(exact, exact, text)
    year = int(match["year"])
    if match["month"] is None:
        return DateSpan(date(year, 1, 1), date(year, 12, 31), text)
    month = int(match["month"])
    if month == 12:
        return DateSpan(date(year, 12, 1), date(year, 12, 31), text)
    last = date(year, month + 1, 1) - timedelta(days=1)  # no calendar module: CLI start-up
    return DateSpan(date(year, month, 1), last, text)


def whole_years_between(born: date, at: date) -> int:
    """Return completed years of age on ``at`` for someone born on ``born``."""
    before_birthday = (at.month, at.day) < (born.month, born.day)
    return at.year - born.year - (1 if before_birthday else 0)


def days_ago(days: int, at: date) -> date:
    """Return the calendar day ``days`` days before ``at``."""
    try:
        return at - timedelta(days=days)
    except OverflowError:  # before year 1: nothing recorded can be older
        return date.min


class Interval(Struct, frozen=True):
    """A set of possible values: a point, a half-line from a comparator, or a range.

    ``low``/``high`` of ``None`` mean unbounded on that side.
    """

    low: Decimal | None
    high: Decimal | None
    low_closed: bool = True
    high_closed: bool = True

    @classmethod
    def point(cls, value: Decimal) -> Interval:
        """Return the interval holding exactly ``value``."""
        return cls(value, value)

    @classmethod
    def from_comparator(cls, comparator: str | None, value: Decimal) -> Interval:
        """Return the interval a FHIR Quantity comparator describes."""
        if comparator in (None, ""):
            return cls.point(value)
        if comparator in ("<", "<="):
            return cls(None, value, high_closed=comparator == "<=")
        if comparator in (">", ">="):
            return cls(value, None, low_closed=comparator == ">=")
        raise ValueError(f"unknown comparator {comparator!r}")

    @property
    def is_point(self) -> bool:
        """Say whether the interval is a single value."""
        return self.low is not None and self.low == self.high

    def scaled(self, factor: Decimal, divide: bool = False) -> Interval:
        """Return the interval multiplied (or divided) by a positive factor (rounded to
        the decimal context's 28 digits, as every normalised value is, even by 1)."""

        def apply(bound: Decimal | None) -> Decimal | None:
            if bound is None:
                return None
            return bound / factor if divide else bound * factor

        return Interval(apply(self.low), apply(self.high), self.low_closed, self.high_closed)

    def all_at_most(self, limit: Decimal) -> bool:
        """Say whether every value is ≤ ``limit``."""
        return self.high is not None and self.high <= limit

    def all_below(self, limit: Decimal) -> bool:
        """Say whether every value is < ``limit``."""
        if self.high is None:
            return False
        return self.high < limit or (self.high == limit and not self.high_closed)

    def all_at_least(self, limit: Decimal) -> bool:
        """Say whether every value is ≥ ``limit``."""
        return self.low is not None and self.low >= limit

    def all_above(self, limit: Decimal) -> bool:
        """Say whether every value is > ``limit``."""
        if self.low is None:
            return False
        return self.low > limit or (self.low == limit and not self.low_closed)

    def overlaps(self, low: Decimal | None, high: Decimal | None) -> bool:
        """Say whether any value lies in the half-open band [low, high)."""
        below_high = high is None or not self.all_at_least(high)
        above_low = low is None or not self.all_below(low)
        return below_high and above_low

    def decide(self, met_when: str, limit: Decimal) -> Status:
        """Decide ``value <op> limit`` for the whole interval.

        ``met_when`` is one of ``"<"``, ``"<="``, ``">="``: ``met`` when every value
        satisfies it, ``not_met`` when none does, ``unknown`` when it straddles.
        """
        if met_when == "<":
            yes, no = self.all_below(limit), self.all_at_least(limit)
        elif met_when == "<=":
            yes, no = self.all_at_most(limit), self.all_above(limit)
        elif met_when == ">=":
            yes, no = self.all_at_least(limit), self.all_below(limit)
        else:
            raise ValueError(f"unsupported operator {met_when!r}")
        if yes:
            return Status.MET
        if no:
            return Status.NOT_MET
        return Status.UNKNOWN

    def display(self) -> str:
        """Return a short human form: ``8``, ``<1``, ``>=5``, ``5-10``."""
        if self.is_point:
            return format_decimal(self.low)  # type: ignore[arg-type]
        if self.low is None and self.high is not None:
            return ("<=" if self.high_closed else "<") + format_decimal(self.high)
        if self.high is None and self.low is not None:
            return (">=" if self.low_closed else ">") + format_decimal(self.low)
        if self.low is not None and self.high is not None:
            if self.low_closed and self.high_closed:
                return f"{format_decimal(self.low)}-{format_decimal(self.high)}"
            left = "[" if self.low_closed else "("
            right = "]" if self.high_closed else ")"
            return f"{left}{format_decimal(self.low)}, {format_decimal(self.high)}{right}"
        return "any value"


_THOUSANDTH = Decimal("0.001")


def format_decimal(value: Decimal) -> str:
    """Format a decimal rounded to 3 places, without trailing zeros (``1.2``, ``150``)."""
    rounded = value.quantize(_THOUSANDTH)
    text = format(rounded.normalize(), "f")
    return "0" if text in ("-0", "") else text


EvidenceValue = str | int | bool | Decimal | None


class Evidence(Struct, frozen=True):
    """One piece of evidence behind a decision: which resource, what value, when."""

    reference: str
    value: EvidenceValue = None
    unit: str | None = None
    date: str | None = None
    component: str | None = None
    """The code of the Observation ``component`` that holds the value, when the value
    comes from a component of ``reference`` (e.g. a Ki-67 in a pathology panel)."""
