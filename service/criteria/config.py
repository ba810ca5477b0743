"""Configurable defaults of the criteria (criteria.md marks them *configurable default*)."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from service.records import Struct

__all__ = ["ConfigError", "EvaluationConfig"]


class ConfigError(ValueError):
    """A configuration value is missing, of the wrong type or out of range."""


class EvaluationConfig(Struct, frozen=True):
    """Defaults used where the source reviews give no number.

    ``bilirubin_upper_limit_mg_dl`` applies only when the bilirubin Observation has no
    ``referenceRange.high``; ``max_ecog_for_surgery`` is the highest ECOG still fit for
    major surgery; ``lab_freshness_days`` is how old a bilirubin or platelet count may be
    (exactly that many days is still fresh).
    """

    bilirubin_upper_limit_mg_dl: Decimal = Decimal("1.2")
    max_ecog_for_surgery: int = 2
    lab_freshness_days: int = 90

    def __post_init__(self) -> None:
        if not isinstance(self.bilirubin_upper_limit_mg_dl, Decimal):
            raise ConfigError("bilirubin_upper_limit_mg_dl must be a Decimal")
        if not self.bilirubin_upper_limit_mg_dl.is_finite():
            raise ConfigError("bilirubin_upper_limit_mg_dl must be a finite number")
        if self.bilirubin_upper_limit_mg_dl <= 0:
            raise ConfigError("bilirubin_upper_limit_mg_dl must be positive")
        if isinstance(self.max_ecog_for_surgery, bool) or self.max_ecog_for_surgery not in range(6):
            raise ConfigError("max_ecog_for_surgery must be an integer from 0 to 5")
        if (
            isinstance(self.lab_freshness_days, bool)
            or not isinstance(self.lab_freshness_days, int)
            or not 0 <= self.lab_freshness_days <= 36_500
        ):
            raise ConfigError("lab_freshness_days must be an integer from 0 to 36500")

    @classmethod
    def from_mapping(cls, values: dict[str, Any]) -> EvaluationConfig:
        """Build a config from strings or numbers (environment, Flask config).

        Unknown keys and unparseable values raise :class:`ConfigError` naming the key.
        """
        known = set(cls.__struct_fields__)
        unknown = set(values) - known
        if unknown:
            raise ConfigError(f"unknown evaluation setting(s): {', '.join(sorted(unknown))}")
        parsed: dict[str, Any] = {}
        for key, raw in values.items():
            try:
                if key == "bilirubin_upper_limit_mg_dl":
                    parsed[key] = Decimal(str(raw))
                else:
                    parsed[key] = int(str(raw))
            except (InvalidOperation, ValueError) as exc:
                raise ConfigError(f"setting {key}: {raw!r} is not a number") from exc
        return cls(**parsed)
