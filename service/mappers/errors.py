"""Errors raised while reading FHIR input.

Exception tree::

    ValueError
    ├── BundleError      the input as a whole is unusable (not a Bundle, no Patient):
    │                    callers answer 400 / exit 2
    └── UnreadableError       one resource is unreadable: skipped and reported as a warning
"""

from __future__ import annotations

__all__ = ["BundleError", "UnreadableError"]


class BundleError(ValueError):
    """The input cannot be evaluated at all; the message is one clear line."""


class UnreadableError(ValueError):
    """A resource field the service reads has the wrong type or an impossible value."""
