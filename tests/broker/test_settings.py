"""Settings from USERBUS_* variables, masked URLs, and configuration errors."""

from __future__ import annotations

import os
import ssl
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.settings import Settings, load_settings, mask_url

SECRET = "hunter2"


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(os.environ):
        if name.startswith("USERBUS_") and not name.startswith("USERBUS_TEST_"):
            monkeypatch.delenv(name)


def test_defaults() -> None:
    settings = Settings()
    assert settings.exchange == "userbus.users"
    assert settings.max_body_bytes == 256 * 1024
    assert settings.retry.max_attempts == 5
    assert settings.source == "/userbus/host"


def test_environment_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_AMQP_URL", f"amqp://app:{SECRET}@rabbit:5672/chat")
    monkeypatch.setenv("USERBUS_EXCHANGE", "chat.users")
    monkeypatch.setenv("USERBUS_PREFETCH", "32")
    monkeypatch.setenv("USERBUS_LOG_PAYLOADS", "true")
    settings = Settings()
    assert settings.amqp_url == f"amqp://app:{SECRET}@rabbit:5672/chat"
    assert (settings.exchange, settings.prefetch, settings.log_payloads) == ("chat.users", 32, True)


def test_nested_retry_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_RETRY__MAX_ATTEMPTS", "8")
    monkeypatch.setenv("USERBUS_RETRY__DELAYS", "[1, 5, 30]")
    assert Settings().retry.max_attempts == 8
    assert Settings().retry.delays == (1.0, 5.0, 30.0)


def test_overrides_win_over_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_PREFETCH", "32")
    assert load_settings(prefetch=4).prefetch == 4


def test_test_helper_variables_do_not_break_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_TEST_BROKER", "amqp://x")
    assert Settings().prefetch == 256


@pytest.mark.parametrize(
    ("url", "masked"),
    [
        (f"amqp://app:{SECRET}@rabbit:5672/chat", "amqp://app:***@rabbit:5672/chat"),
        (f"amqps://app:{SECRET}@rabbit/", "amqps://app:***@rabbit/"),
        (f"amqp://:{SECRET}@rabbit/", "amqp://:***@rabbit/"),
        ("amqp://guest@rabbit/", "amqp://guest@rabbit/"),
        ("amqp://rabbit:5672/v", "amqp://rabbit:5672/v"),
        (
            f"see amqp://a:{SECRET}@h/ and amqp://b:{SECRET}@h/",
            "see amqp://a:***@h/ and amqp://b:***@h/",
        ),
    ],
)
def test_mask_url(url: str, masked: str) -> None:
    assert mask_url(url) == masked


def test_settings_repr_and_masked_url_hide_the_password() -> None:
    settings = Settings(amqp_url=f"amqp://app:{SECRET}@rabbit/")
    assert settings.masked_url == "amqp://app:***@rabbit/"
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)


@pytest.mark.parametrize("url", [f"http://app:{SECRET}@rabbit/", f"amqp://app:{SECRET}@/"])
def test_bad_url_raises_config_error_without_password(url: str) -> None:
    with pytest.raises(ConfigError, match="amqp_url") as caught:
        load_settings(amqp_url=url)
    assert SECRET not in str(caught.value)


def test_url_without_scheme_does_not_leak_password() -> None:
    with pytest.raises(ConfigError, match="amqp_url") as caught:
        load_settings(amqp_url=f"app:{SECRET}@rabbit:5672/")
    assert SECRET not in str(caught.value)


def test_bad_url_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_AMQP_URL", f"ftp://app:{SECRET}@rabbit/")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert SECRET not in str(caught.value)
    assert caught.value.__cause__ is None


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("prefetch", 0),
        ("prefetch", 70_000),
        ("handler_timeout", 0),
        ("max_body_bytes", 100),
        ("delivery_limit", 1),
        ("log_level", "TRACE"),
        ("not_a_setting", 1),
    ],
)
def test_invalid_values_raise_config_error(field: str, value: object) -> None:
    with pytest.raises(ConfigError, match=field):
        load_settings(**{field: value})


@pytest.mark.parametrize("field", ["exchange", "queue_prefix"])
def test_names_must_match_entirely(field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        load_settings(**{field: "bad name!"})


def test_bad_nested_value_names_the_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("USERBUS_RETRY__MAX_ATTEMPTS", "0")
    with pytest.raises(ConfigError, match=r"retry\.max_attempts"):
        load_settings()


def test_settings_are_frozen() -> None:
    with pytest.raises(ValueError, match="frozen"):
        Settings().prefetch = 1  # type: ignore[misc]


def test_no_ssl_context_for_amqp() -> None:
    assert Settings(amqp_url="amqp://guest:guest@localhost/").ssl_context() is None


def test_ssl_context_for_amqps_verifies_the_broker() -> None:
    context = Settings(amqp_url="amqps://guest:guest@rabbit.example/").ssl_context()
    assert isinstance(context, ssl.SSLContext)
    assert context.verify_mode is ssl.CERT_REQUIRED
    assert context.check_hostname is True


def test_ssl_context_reads_the_ca_file(tmp_path: Path) -> None:
    settings = Settings(amqp_url="amqps://h/", tls_ca_file=tmp_path / "missing.pem")
    with pytest.raises(FileNotFoundError):
        settings.ssl_context()
