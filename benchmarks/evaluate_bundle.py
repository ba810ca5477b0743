"""Benchmark: evaluate one 200-resource Bundle in-process (mapping + all four sets).

    .venv/bin/python benchmarks/evaluate_bundle.py [--runs 300]

Prints the median and p95 over ``--runs`` evaluations, without process start-up,
both from an already parsed Bundle and including ``json.loads`` of its text.
Target (issue 2): median under 20 ms on the 2-core reference machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from service.engine import evaluate_bundle
from service.mappers import load_bundle_json

AT = date(2026, 11, 22)
LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
ICD = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
NELM = "https://nelm-cds.github.io/fhir/CodeSystem/nelm-assessment"


def _observation(
    index: int, system: str, code: str, day: date, value: dict[str, Any]
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": f"obs-{index}",
        "meta": {"lastUpdated": f"{day.isoformat()}T12:00:00Z"},
        "status": "final",
        "code": {
            "coding": [
                {"system": "urn:oid:1.2.3", "code": f"L{code}"},
                {"system": system, "code": code},
            ]
        },
        "subject": {"reference": "Patient/bench"},
        "effectiveDateTime": f"{day.isoformat()}T08:30:00+01:00",
        **value,
    }


def _quantity(value: float, unit: str) -> dict[str, Any]:
    return {"valueQuantity": {"value": value, "unit": unit, "system": UCUM, "code": unit}}


def build_bundle() -> dict[str, Any]:
    """Return a realistic 200-resource Bundle: 2 years of labs, MDT findings, history."""
    resources: list[dict[str, Any]] = [
        {"resourceType": "Patient", "id": "bench", "birthDate": "1974-06-15", "gender": "female"}
    ]
    labs = [
        ("777-3", lambda i: _quantity(180 + i % 40, "10*3/uL")),
        ("1975-2", lambda i: _quantity(0.5 + (i % 5) / 10, "mg/dL")),
        ("2951-2", lambda i: _quantity(139 + i % 3, "mmol/L")),  # sodium: not read
        ("718-7", lambda i: _quantity(12.5 + (i % 4) / 10, "g/dL")),  # haemoglobin: not read
        ("1742-6", lambda i: _quantity(25 + i % 10, "U/L")),  # ALT: not read
    ]
    index = 0
    for week in range(30):
        day = AT - timedelta(days=7 + 24 * week)
        for code, value in labs:
            resources.append(_observation(index, LOINC, code, day, value(index)))
            index += 1
    for offset, answer in ((400, "359746009"), (200, "359746009"), (30, "268910001")):
        day = AT - timedelta(days=offset)
        concept = {"valueCodeableConcept": {"coding": [{"system": SNOMED, "code": answer}]}}
        resources.append(_observation(index, LOINC, "97509-4", day, concept))
        index += 1
    findings = [
        (LOINC, "29593-1", _quantity(4, "%")),
        (LOINC, "89247-1", {"valueInteger": 1}),
        (NELM, "hepatic-tumour-burden", _quantity(30, "%")),
        (NELM, "future-liver-remnant", _quantity(35, "%")),
        (NELM, "extrahepatic-disease", {"valueBoolean": False}),
        (NELM, "hepatic-disease-resectable", {"valueBoolean": False}),
        (
            NELM,
            "metastatic-pattern",
            {"valueCodeableConcept": {"coding": [{"system": NELM, "code": "type-iii"}]}},
        ),
    ]
    for system, code, value in findings:
        resources.append(_observation(index, system, code, AT - timedelta(days=40), value))
        index += 1
    conditions = ["C7A.012", "C7B.02", "E34.00", "I10", "E11.9", "K21.9", "M54.5", "J45.909"]
    for number in range(24):
        code = conditions[number % len(conditions)]
        resources.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{number}",
                "clinicalStatus": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/condition-clinical",
                            "code": "active",
                        }
                    ]
                },
                "code": {"coding": [{"system": ICD, "code": code}]},
                "subject": {"reference": "Patient/bench"},
                "onsetDateTime": (AT - timedelta(days=700 + number)).isoformat(),
            }
        )
    while len(resources) < 200:
        number = len(resources)
        code = "107938000" if number == 199 else "71388002"
        resources.append(
            {
                "resourceType": "Procedure",
                "id": f"proc-{number}",
                "status": "completed",
                "code": {"coding": [{"system": SNOMED, "code": code}]},
                "subject": {"reference": "Patient/bench"},
                "performedDateTime": (AT - timedelta(days=600 + number)).isoformat(),
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"resource": r} for r in resources],
    }


def measure(runs: int, work: Callable[[], object]) -> tuple[float, float]:
    """Return (median, p95) in milliseconds of ``runs`` calls after a warm-up."""
    for _ in range(20):
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    """Print the benchmark figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    bundle = build_bundle()
    text = json.dumps(bundle)
    assert len(bundle["entry"]) == 200  # noqa: S101 - a benchmark sanity check
    result = evaluate_bundle(bundle, AT)
    statuses = {a["criteriaSet"]: a["status"] for a in result["assessments"]}
    parsed = measure(args.runs, lambda: evaluate_bundle(bundle, AT))
    with_parse = measure(args.runs, lambda: evaluate_bundle(load_bundle_json(text), AT))
    print(f"bundle: 200 resources, {len(text) // 1024} KiB; result: {statuses}")
    print(f"evaluate (parsed bundle):   median {parsed[0]:.2f} ms, p95 {parsed[1]:.2f} ms")
    print(f"evaluate (incl. json load): median {with_parse[0]:.2f} ms, p95 {with_parse[1]:.2f} ms")
    print(f"runs: {args.runs}; target: median < 20 ms")


if __name__ == "__main__":
    main()
