"""redis-server processes of one test (TLS, ACL, Sentinel), on free ports, always stopped."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import redis

REDIS_SERVER = shutil.which("redis-server")
OPENSSL = shutil.which("openssl")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tls_capable() -> bool:
    """Whether the installed redis-server was built with TLS (then --tls-port is a directive)."""
    if REDIS_SERVER is None:
        return False
    done = subprocess.run(
        [REDIS_SERVER, "--port", "0", "--tls-port", "1", "--tls-cert-file", "/nonexistent"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return "Bad directive" not in done.stdout + done.stderr


@contextmanager
def redis_server(
    args: list[str], ready: Callable[[], redis.Redis], cwd: Path, deadline_s: float = 20
) -> Iterator[subprocess.Popen[bytes]]:
    """Run `redis-server *args` until the block ends (killed even when the test fails)."""
    assert REDIS_SERVER is not None
    log = open(cwd / f"redis-{time.monotonic_ns()}.log", "wb")  # noqa: SIM115
    proc = subprocess.Popen([REDIS_SERVER, *args], cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _answers(ready), deadline_s, f"redis-server {args[:2]} did not start")
        yield proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        log.close()


def _answers(client_factory: Callable[[], redis.Redis]) -> bool:
    client = client_factory()
    try:
        return bool(client.ping())
    except (redis.RedisError, OSError):
        return False
    finally:
        client.close()


def wait_until(check: Callable[[], bool], deadline_s: float, message: str) -> None:
    """Poll `check` every 50 ms until it holds; fail with `message` after `deadline_s`."""
    deadline = time.monotonic() + deadline_s
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(0.05)


@dataclass(frozen=True)
class Certificates:
    """A throw-away CA, a server certificate for 127.0.0.1/localhost, and a client certificate."""

    ca: Path
    server_cert: Path
    server_key: Path
    client_cert: Path
    client_key: Path


def make_certificates(directory: Path) -> Certificates:
    """Generate the certificates with the openssl command (EC P-256 keys, valid two days)."""
    assert OPENSSL is not None

    def openssl(*args: str) -> None:
        subprocess.run([OPENSSL, *args], cwd=directory, check=True, capture_output=True)

    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
            "-subj", "/CN=chatwootai test CA")  # fmt: skip
    (directory / "server.ext").write_text("subjectAltName=DNS:localhost,IP:127.0.0.1\n")
    for name, extra in (("server", ["-extfile", "server.ext"]), ("client", [])):
        openssl("req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN={name}")  # fmt: skip
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *extra)  # fmt: skip
    return Certificates(
        ca=directory / "ca.crt",
        server_cert=directory / "server.crt",
        server_key=directory / "server.key",
        client_cert=directory / "client.crt",
        client_key=directory / "client.key",
    )
