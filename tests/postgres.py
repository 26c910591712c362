"""The PostgreSQL server the tests use (127.0.0.1:5432, user postgres, trust auth), as fixtures.

Each test run creates its own database (random name) and drops it at the end; each test gets
its own schema in it (``pg_url``: a ``postgresql://`` URL whose ``search_path`` names it), so
tests never see each other's rows. The shared server is never stopped or reconfigured. When
no server answers, tests that ask for it skip with the reason; they are marked ``postgres``,
and under CI a skip of one fails the run (tests/conftest.py).

``GATEWAY_TEST_POSTGRES`` overrides the server's URL (its database is only used to create ours).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import os
import secrets
from collections.abc import Iterator

import pytest

SERVER = os.environ.get("GATEWAY_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres")


async def _admin(sql: str, url: str = SERVER) -> None:
    import asyncpg

    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


def admin(sql: str, url: str = SERVER) -> None:
    """Run ``sql`` as the server's superuser, on a thread of its own (a test's event loop may be running)."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, _admin(sql, url)).result()


def database_url(name: str, schema: str | None = None) -> str:
    base = SERVER.rsplit("/", 1)[0] + "/" + name
    return f"{base}?search_path={schema}" if schema else base


@pytest.fixture(scope="session")
def pg_database() -> Iterator[str]:
    """This run's database, created on first use and dropped at the end; its name."""
    name = "gw_test_" + secrets.token_hex(4)
    try:
        admin(f"CREATE DATABASE {name}")
    except Exception as exc:  # refused, timed out, no asyncpg: say why and skip
        pytest.skip(f"no PostgreSQL server answers at {SERVER} ({type(exc).__name__}: {exc})")
    yield name
    admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def pg_url(pg_database: str) -> Iterator[str]:
    """A URL on a fresh, empty schema of this run's database, dropped after the test."""
    schema = "t_" + secrets.token_hex(5)
    admin(f"CREATE SCHEMA {schema}", database_url(pg_database))
    yield database_url(pg_database, schema)
    admin(f"DROP SCHEMA {schema} CASCADE", database_url(pg_database))


ENGINES = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=ENGINES)
def db_url(request, tmp_path) -> str:
    """The URL of an empty database of the parametrized engine (``sqlite`` or ``postgres``)."""
    if request.param == "postgres":
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path}/gateway.sqlite3"


class Proxy:
    """A TCP relay on 127.0.0.1 in front of the server: ``cut()`` makes the database unreachable for
    whoever connects through it (listener closed, every relayed connection reset), ``restore()``
    listens again on the same port. The shared server itself is never touched."""

    def __init__(self, host: str = "127.0.0.1", port: int = 5432) -> None:
        self.target = (host, port)
        self.port = 0
        self._server: asyncio.base_events.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.close()
            return
        self._writers |= {writer, up_writer}

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            try:
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            except (OSError, asyncio.CancelledError):
                pass
            finally:
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        self._writers -= {writer, up_writer}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._relay, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def cut(self) -> None:
        self._server.close()
        await self._server.wait_closed()
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def restore(self) -> None:
        await self.start()

    def url(self, pg_url: str) -> str:
        """``pg_url`` (on 127.0.0.1:5432) through this relay."""
        return pg_url.replace("127.0.0.1:5432", f"127.0.0.1:{self.port}", 1)
