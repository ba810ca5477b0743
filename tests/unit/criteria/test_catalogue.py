"""catalogue.validate_sets: a malformed set fails with CriteriaSetError, naming where."""

from __future__ import annotations

from decimal import Decimal

import pytest

from service.criteria import DEFAULT_SETS, CriteriaSet, CriteriaSetError, validate_sets
from service.criteria.catalogue import evaluation_order
from service.criteria.model import Criterion, Threshold
from service.records import replace

SETS = {s.id: s for s in DEFAULT_SETS}
MILAN, ENETS, UNOS, RESECTION = SETS["milan-net"], SETS["enets"], SETS["unos"], SETS["resection"]


def criterion(criteria_set: CriteriaSet, criterion_id: str) -> Criterion:
    """Return a published criterion by id."""
    return criteria_set.criterion(criterion_id)


def with_criterion(criteria_set: CriteriaSet, changed: Criterion) -> CriteriaSet:
    """Return the set with the criterion of the same id replaced by ``changed``."""
    return replace(
        criteria_set,
        criteria=tuple(changed if c.id == changed.id else c for c in criteria_set.criteria),
    )


def with_sets(*changed: CriteriaSet) -> tuple[CriteriaSet, ...]:
    """Return the published sets with some replaced (matched by id)."""
    by_id = {s.id: s for s in changed}
    return tuple(by_id.get(s.id, s) for s in DEFAULT_SETS)


def test_the_published_sets_are_valid_and_returned_unchanged() -> None:
    assert validate_sets(DEFAULT_SETS) == DEFAULT_SETS
    assert [s.id for s in DEFAULT_SETS] == ["milan-net", "enets", "unos", "resection"]


def test_criteria_set_error_is_a_value_error() -> None:
    assert issubclass(CriteriaSetError, ValueError)


AGE = criterion(MILAN, "age_under_55")
BILOBAR = criterion(UNOS, "bilobar_unresectable")
COMBINED = criterion(UNOS, "primary_and_extrahepatic_resected")

BAD_SETS = [
    pytest.param(
        with_sets(replace(MILAN, criteria=(*MILAN.criteria, AGE))),
        "criteria set 'milan-net': duplicate criterion 'age_under_55'",
        id="duplicate criterion id",
    ),
    pytest.param(
        with_sets(replace(UNOS, helpers=(*UNOS.helpers, AGE))),
        "duplicate criterion 'age_under_55'",
        id="helper repeating a criterion id",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, rule="age_above"))),
        "criterion 'age_under_55': unknown rule 'age_above'",
        id="unknown rule",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, inputs=("birth_date", "ki67")))),
        "declares inputs \\['birth_date', 'ki67'\\] but rule 'age_below' reads \\['birth_date'\\]",
        id="inputs the rule does not read",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, inputs=()))),
        "declares inputs \\[\\]",
        id="inputs missing",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, inputs=("shoe_size",)))),
        "unknown input\\(s\\) \\['shoe_size'\\]",
        id="unknown input name",
    ),
    pytest.param(
        with_sets(
            with_criterion(MILAN, replace(AGE, thresholds={"limit": Threshold(Decimal(55), "d")}))
        ),
        "threshold 'limit' is in 'd', rule 'age_below' expects 'a'",
        id="threshold unit mismatch",
    ),
    pytest.param(
        with_sets(
            with_criterion(
                ENETS,
                replace(
                    criterion(ENETS, "ki67_at_most_10"),
                    thresholds={"ki67_limit": Threshold(Decimal(10), "10*9/L")},
                ),
            )
        ),
        "criteria set 'enets', criterion 'ki67_at_most_10': threshold 'ki67_limit'",
        id="Ki-67 threshold in a count unit",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, thresholds={}))),
        "thresholds \\[\\] do not match rule 'age_below'",
        id="threshold missing",
    ),
    pytest.param(
        with_sets(with_criterion(UNOS, replace(BILOBAR, depends_on_set="transplant-2030"))),
        "depends on unknown set 'transplant-2030'",
        id="unknown depends_on_set",
    ),
    pytest.param(
        with_sets(with_criterion(UNOS, replace(BILOBAR, depends_on_set=None))),
        "'depends_on_set' must be given exactly when the rule reads a set",
        id="set-reading rule without depends_on_set",
    ),
    pytest.param(
        with_sets(with_criterion(UNOS, replace(BILOBAR, depends_on_set="unos"))),
        "criteria set 'unos': dependency cycle",
        id="set depending on itself",
    ),
    pytest.param(
        with_sets(
            replace(
                RESECTION,
                criteria=(
                    *RESECTION.criteria,
                    replace(BILOBAR, id="bilobar_check", depends_on_set="unos"),
                ),
            )
        ),
        "dependency cycle",
        id="two sets depending on each other",
    ),
    pytest.param(
        with_sets(with_criterion(UNOS, replace(COMBINED, parts=("primary_resected", "ghost")))),
        "part 'ghost' is not another criterion of the set",
        id="combining an unknown part",
    ),
    pytest.param(
        with_sets(with_criterion(UNOS, replace(COMBINED, parts=()))),
        "'parts' must be given exactly for combining rules",
        id="combining rule without parts",
    ),
    pytest.param(
        with_sets(with_criterion(MILAN, replace(AGE, source="  "))),
        "criterion 'age_under_55': no source",
        id="criterion without a source",
    ),
    pytest.param(
        with_sets(replace(MILAN, version="")),
        "criteria set 'milan-net': version and source required",
        id="set without a version",
    ),
    pytest.param(
        (*DEFAULT_SETS, MILAN),
        "criteria set 'milan-net': duplicate id",
        id="duplicate set id",
    ),
    pytest.param(
        with_sets(replace(MILAN, criteria=())),
        "criteria set 'milan-net': no criteria",
        id="empty set",
    ),
    pytest.param(
        (replace(MILAN, id="Milan NET"), ENETS, UNOS, RESECTION),
        "criteria set 'Milan NET': malformed id",
        id="malformed set id",
    ),
    pytest.param(
        with_sets(replace(MILAN, criteria=(replace(AGE, id="Age<55"), *MILAN.criteria[1:]))),
        "criterion 'Age<55': id must match",
        id="malformed criterion id",
    ),
]


@pytest.mark.parametrize(("sets", "message"), BAD_SETS)
def test_a_malformed_set_is_rejected_with_a_named_error(
    sets: tuple[CriteriaSet, ...], message: str
) -> None:
    with pytest.raises(CriteriaSetError, match=message):
        validate_sets(sets)


def test_unos_without_the_resection_set_it_reads_is_rejected() -> None:
    with pytest.raises(CriteriaSetError, match="depends on unknown set 'resection'"):
        validate_sets((MILAN, ENETS, UNOS))


def test_sets_are_evaluated_after_the_sets_they_depend_on() -> None:
    order = [s.id for s in evaluation_order(DEFAULT_SETS)]
    assert order.index("resection") < order.index("unos")
    assert sorted(order) == sorted(s.id for s in DEFAULT_SETS)


def test_every_published_criterion_cites_a_source_and_a_rationale() -> None:
    for criteria_set in DEFAULT_SETS:
        for item in (*criteria_set.criteria, *criteria_set.helpers):
            assert item.source.strip(), item.id
            assert item.rationale.strip(), item.id
