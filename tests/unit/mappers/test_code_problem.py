"""code_problem names what is malformed in a CodeableConcept, and answers a well-formed
one at once (issue 12's cold path): the quick answer must never hide a fault."""

from __future__ import annotations

import random
from typing import Any

from service.mappers.systems import code_problem, codings_of

VALUES: list[Any] = ["http://loinc.org", "777-3", "", None, 3, ["x"], {"a": 1}, True]


def _random_concept(rng: random.Random) -> Any:
    shape = rng.randrange(8)
    if shape == 0:
        return rng.choice([None, "777-3", 5, ["x"]])
    if shape == 1:
        return {"text": "platelets"}
    if shape == 2:
        return {"coding": rng.choice([None, "x", {}, 7])}
    codings: list[Any] = []
    for _ in range(rng.randrange(4)):
        if rng.random() < 0.1:
            codings.append(rng.choice(["x", None, 4, []]))
            continue
        coding: dict[str, Any] = {}
        for key in ("system", "code", "display"):
            if rng.random() < 0.7:
                coding[key] = rng.choice(VALUES)
        codings.append(coding)
    return {"coding": codings}


def _malformed(concept: Any) -> bool:
    if concept is None:
        return False
    if not isinstance(concept, dict):
        return True
    codings = concept.get("coding")
    if codings is None:
        return False
    if not isinstance(codings, list):
        return True
    return any(
        not isinstance(c, dict)
        or any(k in c and not isinstance(c[k], str) for k in ("system", "code"))
        for c in codings
    )


def test_a_problem_is_named_exactly_when_the_concept_is_malformed() -> None:
    rng = random.Random(12)
    concepts = [_random_concept(rng) for _ in range(5000)]
    assert sum(map(_malformed, concepts)) > 1000  # both kinds are generated
    for concept in concepts:
        assert (code_problem(concept) is not None) == _malformed(concept), concept


def test_the_problem_names_the_first_faulty_coding() -> None:
    concept = {"coding": [{"system": "http://loinc.org", "code": "777-3"}, {"code": None}]}
    assert code_problem(concept) == "code.coding[1].code is not a string"
    assert codings_of(concept) == [("http://loinc.org", "777-3")]
    assert code_problem({"coding": {"code": "x"}}) == "code.coding is not a list"
    assert code_problem({"coding": [{"system": "s", "code": "c"}]}) is None
