"""Wiring: settings and engines. Nothing connects at import time."""

from __future__ import annotations

from functools import lru_cache

from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import Engine, inspect

from xiaowei.adapters.db import DEFAULT_URL, make_engine
from xiaowei.core.errors import InvalidState


class Settings(BaseSettings):
    """Typed settings, from the environment (``XIAOWEI_…``)."""

    model_config = SettingsConfigDict(env_prefix="XIAOWEI_")

    database_url: str = DEFAULT_URL
    lang: str = "en"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def engine_for(url: str | None = None, *, require_schema: bool = True) -> Engine:
    """An engine on ``url`` (default: the settings'), checked to have the schema if asked."""
    engine = make_engine(url or get_settings().database_url)
    if require_schema and not inspect(engine).has_table("alembic_version"):
        shown = engine.url.render_as_string(hide_password=True)
        raise InvalidState(
            f"database {shown} has no schema yet: run `xiaowei db upgrade --db {shown}`"
        )
    return engine
