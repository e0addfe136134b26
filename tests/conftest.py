"""Shared fixtures: databases (SQLite file and PostgreSQL schema), products, helpers.

PostgreSQL tests run against ``XIAOWEI_TEST_PG_URL`` (default: the local server of the
development machines). They are skipped when no server answers, unless ``XIAOWEI_REQUIRE_PG``
is set (CI sets it), in which case they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from xiaowei.adapters.db import make_engine, normalise_url
from xiaowei.adapters.migrate import upgrade
from xiaowei.services.products import import_products

PG_URL = os.environ.get("XIAOWEI_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


# --------------------------------------------------------------------------- test order
# ``make test`` runs ``pytest -n 2 --dist loadfile``: whole modules go to the two workers, and
# by default pytest-xdist hands them out by number of tests, most first, so that the slowest
# modules — a few long tests each — came last and one worker finished minutes after the other.
# The suite orders its modules itself instead: those with a test marked ``slow`` first (in
# collection order), then the others, and xdist keeps that order.


def pytest_configure(config: pytest.Config) -> None:
    if getattr(config.option, "loadscopereorder", None) is not None:
        config.option.loadscopereorder = False


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    slow = {item.path for item in items if item.get_closest_marker("slow") is not None}
    items.sort(key=lambda item: item.path not in slow)  # stable: modules stay whole, in order


def _pg_available() -> str | None:
    try:
        probe = create_engine(normalise_url(PG_URL), connect_args={"connect_timeout": 3})
        with probe.connect() as conn:
            conn.execute(text("select 1"))
        probe.dispose()
        return None
    except Exception as exc:
        return str(exc).splitlines()[0]


_PG_PROBLEM: str | bool | None = False
_SCHEMAS: dict[int, str] = {}


def pg_problem() -> str | None:
    global _PG_PROBLEM
    if _PG_PROBLEM is False:
        _PG_PROBLEM = _pg_available()
    return _PG_PROBLEM if isinstance(_PG_PROBLEM, str) else None


def _pg_engine(schema: str) -> Engine:
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    url = normalise_url(PG_URL)
    sep = "&" if "?" in url else "?"
    return make_engine(f"{url}{sep}options=-csearch_path%3D{schema}")


def _drop_pg_schema(schema: str) -> None:
    admin = create_engine(normalise_url(PG_URL))
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    admin.dispose()


def make_database(kind: str, tmp_path: Path) -> tuple[Engine, str]:
    """An empty, migrated database of ``kind`` ('sqlite' or 'postgresql') and its URL."""
    if kind == "sqlite":
        url = f"sqlite:///{tmp_path / 'xiaowei-test.db'}"
        engine = make_engine(url)
    else:
        problem = pg_problem()
        if problem is not None:
            if os.environ.get("XIAOWEI_REQUIRE_PG"):
                pytest.fail(f"PostgreSQL required (XIAOWEI_REQUIRE_PG) but unreachable: {problem}")
            pytest.skip(f"no PostgreSQL reachable at {PG_URL}: {problem}")
        schema = f"t_{uuid.uuid4().hex[:12]}"
        engine = _pg_engine(schema)
        _SCHEMAS[id(engine)] = schema
        url = engine.url.render_as_string(hide_password=False)
    upgrade(engine)
    return engine, url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database: every database test runs on SQLite and on PostgreSQL."""
    engine, _ = make_database(request.param, tmp_path)
    yield engine
    schema = _SCHEMAS.pop(id(engine), None)
    engine.dispose()
    if schema:
        _drop_pg_schema(schema)


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    """Like ``db`` but SQLite only, as a URL (for CLI tests in subprocesses)."""
    engine, url = make_database("sqlite", tmp_path)
    engine.dispose()
    return url


@pytest.fixture
def catalogue_db(db: Engine) -> Engine:
    """``db`` with the shipped product catalogue imported."""
    import_products(db)
    return db
