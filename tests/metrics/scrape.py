"""Read samples from a Prometheus text exposition (prometheus-client's own parser)."""

from __future__ import annotations

from prometheus_client.parser import text_string_to_metric_families


def sample(text: str, name: str, **labels: str) -> float:
    """Return the value of sample ``name`` whose labels include ``labels`` (0 if none;
    the sum if several match)."""
    total = 0.0
    for family in text_string_to_metric_families(text):
        for found in family.samples:
            if found.name == name and labels.items() <= found.labels.items():
                total += found.value
    return total


def label_values(text: str) -> set[str]:
    """Return every label value in the exposition."""
    return {
        value
        for family in text_string_to_metric_families(text)
        for found in family.samples
        for value in found.labels.values()
    }
