"""Structured logging: credentials masked, payloads redacted unless explicitly enabled."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
import structlog

from broker.logs import PAYLOAD_KEYS, configure_logging
from broker.settings import Settings

SECRET = "hunter2"
EMAIL = "alice@example.com"


@pytest.fixture(autouse=True)
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    libs = {name: logging.getLogger(name).level for name in ("aiormq", "aio_pika")}
    yield
    structlog.reset_defaults()
    root.handlers[:], level = saved
    root.setLevel(level)
    for name, lib_level in libs.items():
        logging.getLogger(name).setLevel(lib_level)


def lines(capsys: pytest.CaptureFixture[str]) -> list[dict[str, Any]]:
    err = capsys.readouterr().err
    return [json.loads(line) for line in err.splitlines() if line.strip()]


def configure(**overrides: Any) -> None:
    configure_logging(Settings(log_format="json", **overrides))


def test_urls_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    structlog.get_logger("t").info("connecting", url=f"amqp://app:{SECRET}@rabbit:5672/v")
    [line] = lines(capsys)
    assert line["url"] == "amqp://app:***@rabbit:5672/v"
    assert line["event"] == "connecting"
    assert line["level"] == "info"
    assert "timestamp" in line


def test_url_inside_the_message_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    structlog.get_logger("t").warning(f"cannot reach amqps://app:{SECRET}@rabbit/")
    [line] = lines(capsys)
    assert line["event"] == "cannot reach amqps://app:***@rabbit/"


@pytest.mark.parametrize("key", sorted(PAYLOAD_KEYS))
def test_payload_keys_are_redacted(capsys: pytest.CaptureFixture[str], key: str) -> None:
    configure()
    structlog.get_logger("t").info("event", **{key: {"emails": [EMAIL]}}, app_id="welcome")
    out = capsys.readouterr().err
    assert EMAIL not in out
    line = json.loads(out)
    assert line[key] == "<redacted>"
    assert line["app_id"] == "welcome"


def test_payloads_are_logged_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    configure(log_payloads=True)
    structlog.get_logger("t").info("event", user={"emails": [EMAIL]})
    [line] = lines(capsys)
    assert line["user"] == {"emails": [EMAIL]}


def test_payload_logging_still_masks_urls(capsys: pytest.CaptureFixture[str]) -> None:
    configure(log_payloads=True)
    structlog.get_logger("t").info("event", body=f"amqp://app:{SECRET}@rabbit/")
    assert SECRET not in capsys.readouterr().err


def test_standard_library_logs_are_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    logging.getLogger("some.library").warning("reconnecting to %s", f"amqp://u:{SECRET}@h/")
    [line] = lines(capsys)
    assert line["event"] == "reconnecting to amqp://u:***@h/"
    assert line["level"] == "warning"


def test_level_filters(capsys: pytest.CaptureFixture[str]) -> None:
    configure(log_level="WARNING")
    log = structlog.get_logger("t")
    log.info("hidden")
    log.warning("shown")
    logging.getLogger("some.library").info("hidden too")
    assert [line["event"] for line in lines(capsys)] == ["shown"]


def test_amqp_library_noise_is_quieted() -> None:
    configure(log_level="DEBUG")
    assert logging.getLogger("aiormq").level == logging.CRITICAL
    assert logging.getLogger("aio_pika").level == logging.WARNING


def fail_with_secret_local() -> None:
    secret_local = EMAIL
    raise ValueError(f"failed for user {len(secret_local)}")


def test_tracebacks_leave_out_locals(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    try:
        fail_with_secret_local()
    except ValueError:
        structlog.get_logger("t").exception("handler failed")
    out = capsys.readouterr().err
    [line] = [json.loads(text) for text in out.splitlines()]
    assert "ValueError" in json.dumps(line["exception"])
    assert EMAIL not in out


def test_console_format_masks_too(capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(Settings(log_format="console"))
    structlog.get_logger("t").info("connecting", url=f"amqp://a:{SECRET}@h/", user={"e": EMAIL})
    out = capsys.readouterr().err
    assert "connecting" in out
    assert "amqp://a:***@h/" in out
    assert SECRET not in out
    assert EMAIL not in out


def test_url_in_exception_message_is_masked(capsys: pytest.CaptureFixture[str]) -> None:
    configure()
    try:
        raise ConnectionError(f"cannot connect to amqp://app:{SECRET}@rabbit/")
    except ConnectionError:
        structlog.get_logger("t").exception("publish failed")
    assert SECRET not in capsys.readouterr().err
