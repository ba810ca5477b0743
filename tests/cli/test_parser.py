"""The command line builds only the parser of the command it is given (issue 12: each
option argparse adds costs ``evaluate`` start-up), and parses exactly as the full one."""

from __future__ import annotations

import argparse
from datetime import date
from typing import Any

import pytest

from service import cli

COMMANDS = ["evaluate", "seed", "cds-call", "criteria", "probe", "serve", "screen", "synth"]


def _choices(parser: argparse.ArgumentParser) -> list[str]:
    subparsers = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return list(subparsers.choices)


def test_a_named_command_gets_only_its_own_parser() -> None:
    assert _choices(cli._parser(["evaluate", "--bundle", "b.json"])) == ["evaluate"]
    assert _choices(cli._parser(["synth", "--patients", "3"])) == ["screen", "synth"]


@pytest.mark.parametrize("argv", [[], ["--help"], ["evaluat"], ["-h", "evaluate"]])
def test_help_and_unknown_names_get_every_command_in_order(argv: list[str]) -> None:
    assert _choices(cli._parser(argv)) == COMMANDS


def test_evaluate_parses_the_same_with_its_own_parser_as_with_all() -> None:
    argv = ["evaluate", "--bundle", "b.json", "--at", "2026-11-22", "--patient", "p1"]
    full = cli._parser(["--help"]).parse_args(argv)
    own = cli._parser(argv).parse_args(argv)
    assert vars(own) == vars(full)
    assert (own.bundle, own.at, own.patient) == ("b.json", date(2026, 11, 22), "p1")


def test_an_unknown_command_is_refused_naming_every_choice(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert cli.main(["evaluat"]) == 2
    error = capsys.readouterr().err
    assert "invalid choice: 'evaluat'" in error
    assert all(f"'{name}'" in error for name in COMMANDS)


@pytest.mark.parametrize(("names", "add"), cli._COMMANDS)
def test_each_adder_adds_exactly_the_commands_it_is_listed_under(
    names: frozenset[str], add: Any
) -> None:
    parser = argparse.ArgumentParser()
    add(parser.add_subparsers())
    assert set(_choices(parser)) == names
