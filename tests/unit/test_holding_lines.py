"""Start-up lines held while the app is built: written when it is built, dropped when a
bad setting stops it (its one line is then all an operator sees)."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from service.observability import JsonFormatter, _JsonLines, holding_lines


class BadSettingError(Exception):
    pass


@pytest.fixture
def logged() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = _JsonLines(out)
    handler.setFormatter(JsonFormatter())
    logger = logging.getLogger("service.test_holding_lines")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield logger, out
    logger.removeHandler(handler)


def test_lines_are_written_when_the_block_ends(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = logged
    with holding_lines(drop_on=BadSettingError):
        logger.info("ready")
        assert out.getvalue() == ""  # held
    assert '"message": "ready"' in out.getvalue()
    logger.info("after")
    assert '"message": "after"' in out.getvalue()  # not held any more


def test_lines_are_dropped_on_a_bad_setting(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = logged

    def start() -> None:
        with holding_lines(drop_on=BadSettingError):
            logger.warning("half started")
            raise BadSettingError

    with pytest.raises(BadSettingError):
        start()
    assert out.getvalue() == ""
    logger.info("later")
    assert '"message": "later"' in out.getvalue()


def test_other_failures_keep_their_lines(logged: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = logged

    def start() -> None:
        with holding_lines(drop_on=BadSettingError):
            logger.warning("what happened before the crash")
            raise RuntimeError

    with pytest.raises(RuntimeError):
        start()
    assert "what happened before the crash" in out.getvalue()
