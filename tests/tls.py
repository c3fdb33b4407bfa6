"""TLS for tests without reconfiguring the broker: a throw-away CA (made with the ``openssl``
command) and a TLS-terminating proxy in front of the plain AMQP port."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from tests.rabbit import BROKER

_EXTENSIONS = {
    "server": "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n",
    "client": "extendedKeyUsage=clientAuth\n",
}


@dataclass(frozen=True)
class Certificates:
    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def have_openssl() -> bool:
    return shutil.which("openssl") is not None


def _openssl(*args: str | Path) -> None:
    subprocess.run(["openssl", *map(str, args)], check=True, capture_output=True, timeout=30)


_NEW_KEY = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")


def make_certificates(directory: Path) -> Certificates:
    """A CA, a server certificate for ``localhost`` and a client certificate, all signed by it."""
    ca, ca_key = directory / "ca.pem", directory / "ca.key"
    subject = "/CN=userbus test CA"
    _openssl("req", "-x509", *_NEW_KEY, "-keyout", ca_key, "-out", ca, "-subj", subject)
    for name, extensions in _EXTENSIONS.items():
        key, csr, cert, ext = (directory / f"{name}.{x}" for x in ("key", "csr", "pem", "ext"))
        ext.write_text(extensions)
        subject = "/CN=localhost" if name == "server" else f"/CN={name}"
        _openssl("req", *_NEW_KEY, "-keyout", key, "-out", csr, "-subj", subject)
        signing = ("-CA", ca, "-CAkey", ca_key, "-CAcreateserial", "-days", "2")
        _openssl("x509", "-req", "-in", csr, *signing, "-out", cert, "-extfile", ext)
    return Certificates(
        ca=ca,
        server_cert=directory / "server.pem",
        server_key=directory / "server.key",
        client_cert=directory / "client.pem",
        client_key=directory / "client.key",
    )


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, ssl.SSLError):
        pass
    finally:
        writer.close()


@dataclass
class Proxy:
    port: int
    connections: int = 0
    """TLS connections accepted (handshake done)."""


@contextlib.asynccontextmanager
async def tls_proxy(certs: Certificates, *, client_certs: bool = False) -> AsyncIterator[Proxy]:
    """Accept TLS on a free port of 127.0.0.1 and forward the plain bytes to the broker.

    With ``client_certs`` a client must present a certificate signed by the CA."""
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(certs.server_cert, certs.server_key)
    if client_certs:
        context.verify_mode = ssl.CERT_REQUIRED
        context.load_verify_locations(certs.ca)
    broker = urlsplit(BROKER)
    tasks: set[asyncio.Task[None]] = set()

    async def forward(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        tasks.add(task)
        proxy.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection(broker.hostname, broker.port)
            await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
        finally:
            writer.close()
            tasks.discard(task)

    server = await asyncio.start_server(forward, "127.0.0.1", 0, ssl=context)
    proxy = Proxy(int(server.sockets[0].getsockname()[1]))
    try:
        yield proxy
    finally:
        server.close()
        for task in list(tasks):
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()
