"""TLS end to end (``amqps://`` with USERBUS_TLS_* settings), through a TLS-terminating proxy
in front of the test broker, with certificates from a throw-away CA."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest

from broker.errors import ConfigError
from broker.publisher import Publisher
from broker.settings import Settings
from tests.apps import Recorder
from tests.deadletters import ROOT, declare
from tests.rabbit import fast_settings, running, wait_until
from tests.samples import sample
from tests.tls import Certificates, Proxy, have_openssl, make_certificates, tls_proxy

pytestmark = pytest.mark.skipif(not have_openssl(), reason="needs the openssl command")


@pytest.fixture
def certs(tmp_path: Path) -> Certificates:
    return make_certificates(tmp_path)


def over_tls(settings: Settings, proxy: Proxy, host: str = "localhost", **tls: object) -> Settings:
    vhost = settings.amqp_url.rsplit("/", 1)[1]
    url = f"amqps://guest:guest@{host}:{proxy.port}/{vhost}"
    return fast_settings(url, startup_timeout=5.0, **tls)


async def test_events_flow_over_tls(settings: Settings, certs: Certificates) -> None:
    app = Recorder()
    async with tls_proxy(certs) as proxy:
        tls = over_tls(settings, proxy, tls_ca_file=certs.ca)
        async with running([app], tls), Publisher(tls) as publisher:
            event_id = await publisher.publish(sample("user.created"))
            await wait_until(lambda: len(app.seen) == 1, what="the event over TLS")
    assert app.seen[0][2].event_id == event_id
    assert proxy.connections >= 2  # the worker's and the host's


@pytest.mark.parametrize(
    ("host", "with_ca", "reason"),
    [
        ("localhost", False, "unable to get local issuer certificate"),
        ("127.0.0.1", True, "IP address mismatch"),
    ],
)
async def test_an_unverifiable_certificate_is_a_clear_config_error(
    settings: Settings, certs: Certificates, host: str, with_ca: bool, reason: str
) -> None:
    async with tls_proxy(certs) as proxy:
        tls = over_tls(settings, proxy, host, tls_ca_file=certs.ca if with_ca else None)
        with pytest.raises(ConfigError) as refused:
            async with asyncio.timeout(3), Publisher(tls):  # at once: no retry loop
                pass
    assert str(refused.value).startswith(
        f"TLS: the certificate of RabbitMQ at amqps://guest:***@{host}:{proxy.port}/"
    )
    assert f"failed verification ({reason}" in str(refused.value)
    assert "set USERBUS_TLS_CA_FILE" in str(refused.value)


async def test_client_certificate(settings: Settings, certs: Certificates) -> None:
    await declare(settings, Recorder)
    async with tls_proxy(certs, client_certs=True) as proxy:
        tls = over_tls(
            settings,
            proxy,
            tls_ca_file=certs.ca,
            tls_cert_file=certs.client_cert,
            tls_key_file=certs.client_key,
        )
        async with Publisher(tls) as publisher:
            await publisher.publish(sample("user.created"))
    assert proxy.connections == 1


@pytest.mark.parametrize("with_ca", [True, False])
async def test_cli_reads_the_tls_settings_from_the_environment(
    settings: Settings, certs: Certificates, with_ca: bool
) -> None:
    await declare(settings, Recorder)
    async with tls_proxy(certs) as proxy:
        env = {
            "USERBUS_AMQP_URL": over_tls(settings, proxy).amqp_url,
            "USERBUS_LOG_FORMAT": "json",
            **({"USERBUS_TLS_CA_FILE": str(certs.ca)} if with_ca else {}),
        }
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "broker.cli", "publish", "user.created"),
            *("--data", sample("user.created").model_dump_json()),
            cwd=ROOT,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        out, err = await asyncio.wait_for(process.communicate(), 30)
    if with_ca:
        assert (process.returncode, out.decode()[:23]) == (0, "published user.created "), err
    else:
        assert process.returncode == 2
        [line] = [x for x in err.decode().splitlines() if x.startswith("userbus: error:")]
        assert line.startswith("userbus: error: TLS: the certificate of RabbitMQ at amqps://")
