"""Redis in production: TLS (server and mutual), an ACL user, and Sentinel failover, each for the
store, its pub/sub and the arq queue alike, against redis-server processes started by the test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any, TypeVar

import pytest
import redis
from arq.worker import func

from chatwootai.service.queue import (
    TURN_FUNCTION,
    ArqTurnQueue,
    queue_name,
    redis_settings,
    sentinel_pool,
)
from chatwootai.service.wakeup import wake_key
from chatwootai.service.worker import OutageTolerantWorker
from chatwootai.settings import Settings
from chatwootai.store.base import Store, StoreError
from chatwootai.store.connection import open_store

sys.path.insert(0, str(Path(__file__).resolve().parent))
from redis_servers import (
    OPENSSL,
    REDIS_SERVER,
    Certificates,
    free_port,
    make_certificates,
    redis_server,
    tls_capable,
    wait_until,
)

T = TypeVar("T")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(REDIS_SERVER is None, reason="redis-server is not installed"),
]
needs_tls = pytest.mark.skipif(
    OPENSSL is None or not tls_capable(),
    reason="needs the openssl command and a redis-server built with TLS",
)
QUIET = ["--save", "", "--appendonly", "no", "--bind", "127.0.0.1", "--daemonize", "no"]


def settings_for(prefix: str, **env: Any) -> Settings:
    """Deployment settings from environment-style names (as a user would give them)."""
    return Settings(CHATWOOTAI_REDIS_PREFIX=prefix, **{k: str(v) for k, v in env.items()})


async def exercise(settings: Settings) -> None:
    """What the service does with Redis: store keys, pub/sub (config invalidation), a turn job."""
    store = open_store(settings)
    queue = ArqTurnQueue(settings)
    try:
        assert await store.ping()
        await store.set("k", "v", ttl=60)
        assert await store.get("k") == "v"
        received = await published_and_received(store)
        assert received == "cosmetics"
        await queue.enqueue("1:7", 42, 0)
        assert await queue.depth() == 1
        assert await queue.has_job("1:7", [42])
        assert await run_worker_until_idle(settings) == ["1:7"]
    finally:
        await queue.close()
        await store.close()


def arq_worker(settings: Settings, ran: list[str], *, burst: bool) -> OutageTolerantWorker:
    """The service's arq worker class on `settings`, running a turn function that records."""

    async def turn(ctx: dict[str, Any], conversation_key: str) -> None:
        ran.append(conversation_key)

    return OutageTolerantWorker(
        functions=[func(turn, name=TURN_FUNCTION)],  # type: ignore[arg-type]
        queue_name=queue_name(settings),
        redis_settings=redis_settings(settings),
        redis_pool=sentinel_pool(settings),
        wake_key=wake_key(settings),
        safety_poll_s=settings.worker_poll_s,
        handle_signals=False,
        keep_result=0,
        burst=burst,
    )


async def run_worker_until_idle(settings: Settings) -> list[str]:
    """Run a worker until the queue is empty; the conversations whose turns it ran."""
    ran: list[str] = []
    worker = arq_worker(settings, ran, burst=True)
    try:
        await asyncio.wait_for(worker.async_run(), 30)
    finally:
        await worker.close()
    return ran


async def published_and_received(store: Store) -> str:
    """Publish on a channel a subscriber listens to (as the registry's invalidation does)."""
    subscription = store.subscribe("config:invalidate")
    listener = asyncio.create_task(anext(subscription))
    for _ in range(100):  # the SUBSCRIBE must be in place before the PUBLISH
        await asyncio.sleep(0.02)
        await store.publish("config:invalidate", "cosmetics")
        done, _ = await asyncio.wait({listener}, timeout=0.05)
        if done:
            break
    message = await asyncio.wait_for(listener, 5)
    await subscription.aclose()
    return message


async def unreachable(settings: Settings) -> None:
    """The store and the queue both refuse this connection (wrong credentials or trust)."""
    store = open_store(settings)
    try:
        assert not await store.ping()
        with pytest.raises(StoreError):
            await store.get("k")
    finally:
        await store.close()
    queue = ArqTurnQueue(settings)
    try:
        with pytest.raises(StoreError):
            await queue.enqueue("1:7", 43, 0)
    finally:
        await queue.close()


# -- TLS --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Certificates:
    """A CA, a server and a client certificate for this module's servers."""
    return make_certificates(tmp_path_factory.mktemp("certs"))


def tls_server(
    stack: ExitStack, certs: Certificates, cwd: Path, *, clients_need_certs: bool
) -> int:
    """A TLS-only redis-server; its port."""
    port = free_port()
    args = [
        "--port", "0", "--tls-port", str(port),
        "--tls-cert-file", str(certs.server_cert), "--tls-key-file", str(certs.server_key),
        "--tls-ca-cert-file", str(certs.ca),
        "--tls-auth-clients", "yes" if clients_need_certs else "no", *QUIET,
    ]  # fmt: skip

    def client() -> redis.Redis:
        return redis.Redis(
            port=port,
            ssl=True,
            ssl_ca_certs=str(certs.ca),
            ssl_certfile=str(certs.client_cert),
            ssl_keyfile=str(certs.client_key),
            socket_connect_timeout=0.5,
        )

    stack.enter_context(redis_server(args, client, cwd))
    return port


@needs_tls
async def test_tls_with_the_ca_as_setting_or_url_parameter(
    certificates: Certificates, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        port = tls_server(stack, certificates, tmp_path, clients_need_certs=False)
        prefix = f"t:{uuid.uuid4().hex[:8]}:"
        url = f"rediss://127.0.0.1:{port}/0"
        await exercise(
            settings_for(prefix + "a:", REDIS_URL=url, REDIS_TLS_CA_FILE=certificates.ca)
        )
        await exercise(
            settings_for(prefix + "b:", REDIS_URL=f"{url}?ssl_ca_certs={certificates.ca}")
        )
        # Host form, with the certificate's name checked against the host.
        await exercise(
            settings_for(
                prefix + "c:",
                REDIS_HOST="localhost",
                REDIS_PORT=port,
                REDIS_TLS="true",
                REDIS_TLS_CA_FILE=certificates.ca,
                REDIS_TLS_CHECK_HOSTNAME="true",
            )
        )


@needs_tls
async def test_tls_refuses_a_server_it_cannot_verify(
    certificates: Certificates, tmp_path: Path
) -> None:
    """Without the CA, the self-signed chain is not trusted: no silent plain-text or no-verify."""
    with ExitStack() as stack:
        port = tls_server(stack, certificates, tmp_path, clients_need_certs=False)
        await unreachable(settings_for("t:", REDIS_URL=f"rediss://127.0.0.1:{port}/0"))


@needs_tls
async def test_mutual_tls_needs_the_client_certificate(
    certificates: Certificates, tmp_path: Path
) -> None:
    with ExitStack() as stack:
        port = tls_server(stack, certificates, tmp_path, clients_need_certs=True)
        url = f"rediss://127.0.0.1:{port}/0"
        await unreachable(settings_for("t:", REDIS_URL=url, REDIS_TLS_CA_FILE=certificates.ca))
        await exercise(
            settings_for(
                f"t:{uuid.uuid4().hex[:8]}:",
                REDIS_URL=url,
                REDIS_TLS_CA_FILE=certificates.ca,
                REDIS_TLS_CERT_FILE=certificates.client_cert,
                REDIS_TLS_KEY_FILE=certificates.client_key,
            )
        )


# -- ACL --------------------------------------------------------------------------------------


@pytest.fixture
def acl_port(tmp_path: Path) -> Iterator[int]:
    """A redis-server whose default user is off and whose user `app` has password `s3cret`."""
    port = free_port()
    args = [
        "--port", str(port), "--user", "default", "off",
        # The ACL docs/operations.md recommends, for the prefix "t:".
        "--user", "app", "on", ">s3cret", "~t:*", "~arq:*", "&t:*", "+@all", "-@dangerous", "+info",
        *QUIET,
    ]  # fmt: skip

    def client() -> redis.Redis:
        return redis.Redis(port=port, username="app", password="s3cret", socket_connect_timeout=0.5)

    with redis_server(args, client, tmp_path):
        yield port


async def test_acl_user_and_password_from_url_or_variables(acl_port: int) -> None:
    prefix = f"t:{uuid.uuid4().hex[:8]}:"
    await exercise(
        settings_for(prefix + "a:", REDIS_URL=f"redis://app:s3cret@127.0.0.1:{acl_port}/0")
    )
    await exercise(
        settings_for(
            prefix + "b:",
            REDIS_URL=f"redis://127.0.0.1:{acl_port}/0",
            REDIS_USERNAME="app",
            REDIS_PASSWORD="s3cret",
        )
    )
    await exercise(
        settings_for(
            prefix + "c:",
            REDIS_HOST="127.0.0.1",
            REDIS_PORT=acl_port,
            REDIS_USERNAME="app",
            REDIS_PASSWORD="s3cret",
        )
    )


async def test_acl_wrong_password_is_refused(acl_port: int) -> None:
    await unreachable(settings_for("t:", REDIS_URL=f"redis://app:wrong@127.0.0.1:{acl_port}/0"))
    await unreachable(settings_for("t:", REDIS_URL=f"redis://127.0.0.1:{acl_port}/0"))


# -- Sentinel ---------------------------------------------------------------------------------


class SentinelSet:
    """A master, a replica and one Sentinel watching them, all started by the test.

    With `certs`, the master and the replica speak TLS only and want a client certificate (they
    replicate over TLS too); the Sentinel answers in plain text and reaches them over TLS.
    """

    def __init__(
        self, stack: ExitStack, directory: Path, certs: Certificates | None = None
    ) -> None:
        self.master_port, self.replica_port, self.sentinel_port = (free_port() for _ in range(3))
        self.certs = certs
        self.processes: dict[int, Any] = {}
        tls = self.tls_options()
        for port, extra in (
            (self.master_port, []),
            (self.replica_port, ["--replicaof", "127.0.0.1", str(self.master_port)]),
        ):
            listen = ["--port", "0", "--tls-port", str(port)] if certs else ["--port", str(port)]
            self.processes[port] = stack.enter_context(
                redis_server([*listen, *tls, *extra, *QUIET], self.node(port), directory)
            )
        conf = directory / "sentinel.conf"
        # The Sentinel's own detection delay is the Redis deployment's setting, not the service's
        # (the service runs with its defaults); 1 s keeps the test short.
        tls_conf = "".join(
            f"{name.removeprefix('--')} {value}\n"
            for name, value in zip(tls[::2], tls[1::2], strict=True)
        )
        conf.write_text(
            f"port {self.sentinel_port}\nbind 127.0.0.1\ndaemonize no\n{tls_conf}"
            f"sentinel monitor mymaster 127.0.0.1 {self.master_port} 1\n"
            "sentinel down-after-milliseconds mymaster 1000\n"
            "sentinel failover-timeout mymaster 10000\n"
        )
        stack.enter_context(
            redis_server([str(conf), "--sentinel"], self.node(self.sentinel_port), directory)
        )
        wait_until(self.replica_in_sync, 20, "the replica did not sync with the master")
        wait_until(
            lambda: self.master() == self.master_port, 20, "the Sentinel does not see the master"
        )

    def tls_options(self) -> list[str]:
        """The servers' TLS options (none without certificates)."""
        if self.certs is None:
            return []
        return [
            "--tls-cert-file", str(self.certs.server_cert),
            "--tls-key-file", str(self.certs.server_key),
            "--tls-ca-cert-file", str(self.certs.ca),
            "--tls-auth-clients", "yes", "--tls-replication", "yes",
        ]  # fmt: skip

    def node(self, port: int) -> Callable[[], redis.Redis]:
        """A client factory for one server (over TLS, with the client certificate, if it has)."""
        tls: dict[str, Any] = {}
        if self.certs is not None and port != self.sentinel_port:
            tls = {
                "ssl": True,
                "ssl_ca_certs": str(self.certs.ca),
                "ssl_certfile": str(self.certs.client_cert),
                "ssl_keyfile": str(self.certs.client_key),
            }
        return lambda: redis.Redis(
            port=port, socket_connect_timeout=0.5, decode_responses=True, **tls
        )

    def replica_in_sync(self) -> bool:
        """The replica reports its link to the master up."""
        info = self.node(self.replica_port)().info("replication")
        return info.get("master_link_status") == "up"

    def replica_caught_up(self) -> bool:
        """The replica has applied everything the master has written so far."""
        master = self.node(self.master_port)().info("replication")["master_repl_offset"]
        replica = self.node(self.replica_port)().info("replication")["master_repl_offset"]
        return int(replica) >= int(master)

    def master(self) -> int | None:
        """The master's port according to the Sentinel."""
        client = self.node(self.sentinel_port)()
        try:
            address = client.execute_command("SENTINEL", "get-master-addr-by-name", "mymaster")
            return int(address[1]) if address else None
        finally:
            client.close()

    def kill_master(self) -> None:
        """The master dies without warning (SIGKILL)."""
        proc = self.processes[self.master_port]
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


async def eventually(op: Callable[[], Awaitable[T]], deadline_s: float = 30) -> T:
    """`op()` once it succeeds: right after a failover a command on a stale connection fails
    (as any Redis outage does, which the service already retries), the next one finds the new
    master through the Sentinel."""
    deadline = time.monotonic() + deadline_s
    while True:
        try:
            return await op()
        except StoreError:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.1)


@pytest.fixture
def sentinels(tmp_path: Path) -> Iterator[SentinelSet]:
    """A running master, replica and Sentinel."""
    with ExitStack() as stack:
        yield SentinelSet(stack, tmp_path)


@pytest.fixture
def tls_sentinels(certificates: Certificates, tmp_path: Path) -> Iterator[SentinelSet]:
    """A running master and replica that want TLS with a client certificate, and a Sentinel."""
    with ExitStack() as stack:
        yield SentinelSet(stack, tmp_path, certificates)


@pytest.fixture
async def ran() -> AsyncIterator[list[str]]:
    """Conversation keys of the turn jobs the test worker ran."""
    yield []


async def test_sentinel_failover_keeps_store_and_queue_working(
    sentinels: SentinelSet, ran: list[str]
) -> None:
    """Default service settings: store, pub/sub, enqueue and a running worker survive the master's
    death; what was written before is on the new master, and new writes land there."""
    settings = settings_for(
        f"t:{uuid.uuid4().hex[:8]}:", REDIS_SENTINELS=f"127.0.0.1:{sentinels.sentinel_port}"
    )
    await survives_failover(sentinels, settings, ran)


@needs_tls
async def test_sentinel_with_mutual_tls_fails_over_for_the_queue_too(
    tls_sentinels: SentinelSet, certificates: Certificates, ran: list[str]
) -> None:
    """Sentinel-managed servers that want TLS with a client certificate (from the settings' CA
    file and certificate): the store and a worker's queue both reach the master, and the new
    master after a failover. Without the client certificate both are refused."""
    sentinel = f"127.0.0.1:{tls_sentinels.sentinel_port}"
    tls = {"REDIS_TLS": "true", "REDIS_TLS_CA_FILE": certificates.ca}
    await unreachable(settings_for("t:", REDIS_SENTINELS=sentinel, **tls))
    settings = settings_for(
        f"t:{uuid.uuid4().hex[:8]}:",
        REDIS_SENTINELS=sentinel,
        REDIS_TLS_CERT_FILE=certificates.client_cert,
        REDIS_TLS_KEY_FILE=certificates.client_key,
        **tls,
    )
    await survives_failover(tls_sentinels, settings, ran)


async def survives_failover(sentinels: SentinelSet, settings: Settings, ran: list[str]) -> None:
    """A worker runs a job through the Sentinel; the master is killed; the store's data is on
    the new master, and a job enqueued after the failover runs in the same worker."""
    store = open_store(settings)
    queue = ArqTurnQueue(settings)

    worker = arq_worker(settings, ran, burst=False)
    running = asyncio.create_task(worker.async_run())
    try:
        await store.set("before", "1")
        await queue.enqueue("1:1", 1, 0)
        await asyncio.wait_for(until(lambda: "1:1" in ran), 20)
        await asyncio.to_thread(
            wait_until, sentinels.replica_caught_up, 20, "the replica did not catch up"
        )

        sentinels.kill_master()
        await asyncio.to_thread(
            wait_until,
            lambda: sentinels.master() == sentinels.replica_port,
            60,
            "the Sentinel did not fail over to the replica",
        )

        assert await eventually(lambda: store.get("before")) == "1"
        await eventually(lambda: store.set("after", "2"))
        assert await eventually(published_and_received_on(store)) == "cosmetics"
        await eventually(lambda: queue.enqueue("1:2", 2, 0))
        await asyncio.wait_for(until(lambda: "1:2" in ran), 30)
        promoted = sentinels.node(sentinels.replica_port)()
        assert promoted.info("replication")["role"] == "master"
        assert promoted.get(settings.redis_prefix + "after") == "2"
        promoted.close()
        await asyncio.wait_for(until(lambda: not worker.tasks), 10)  # jobs fully finished
    finally:
        running.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await running
        with contextlib.suppress(asyncio.CancelledError):
            await worker.close()
        await queue.close()
        await store.close()


def published_and_received_on(store: Store) -> Callable[[], Awaitable[str]]:
    """`published_and_received` as a retryable operation."""
    return lambda: published_and_received(store)


async def until(check: Callable[[], bool]) -> None:
    """Return once `check()` holds (the caller bounds the wait)."""
    while not check():
        await asyncio.sleep(0.02)
