"""Settings: one table (name, default, environment variable, help), read once at start-up.

>>> s = Settings.from_env({"MAILLAGE_BASE_IRI": "https://example.org/m/"})
>>> s.base_iri
'https://example.org/m/'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError


def _default_store() -> str:
    root = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return str(Path(root) / "maillage" / "store")


def _meta(env: str, help: str, parse: Any = str) -> dict[str, Any]:
    return {"env": env, "help": help, "parse": parse}


def _bool(value: str) -> bool:
    if value.lower() in {"1", "true", "yes", "on"}:
        return True
    if value.lower() in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError(f"not a boolean: {value!r}")


@dataclass(frozen=True)
class Settings:
    """Every setting of Maillage. Add a row here, never read ``os.environ`` elsewhere."""

    store: str = field(
        default_factory=_default_store,
        metadata=_meta("MAILLAGE_STORE", "Store location: a directory (embedded Oxigraph), or the "
                       "http(s) URL of a SPARQL server (an Oxigraph server: http://host:7878)."),
    )
    store_query_url: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_QUERY_URL", "Remote store: SPARQL query endpoint "
                       "(default: <store>/query)."),
    )
    store_update_url: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_UPDATE_URL", "Remote store: SPARQL update endpoint "
                       "(default: <store>/update)."),
    )
    store_gsp_url: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_GSP_URL", "Remote store: Graph Store Protocol endpoint "
                       "(default: <store>/store; Fuseki: <dataset>/data)."),
    )
    store_user: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_USER", "Remote store: HTTP Basic user name."),
    )
    store_password: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_PASSWORD", "Remote store: HTTP Basic password."),
    )
    store_token: str = field(
        default="",
        metadata=_meta("MAILLAGE_STORE_TOKEN", "Remote store: bearer token (instead of Basic)."),
    )
    store_timeout_s: float = field(
        default=600.0,
        metadata=_meta("MAILLAGE_STORE_TIMEOUT", "Remote store: longest wait for one engine "
                       "answer, seconds.", float),
    )
    store_graphs_ttl_s: float = field(
        default=0.0,
        metadata=_meta("MAILLAGE_STORE_GRAPHS_TTL", "Remote store: how long the list of named "
                       "graphs (the union default graph) may be reused, seconds; 0 = fetched "
                       "with every query, so a new graph is seen at once.", float),
    )
    store_retries: int = field(
        default=4,
        metadata=_meta("MAILLAGE_STORE_RETRIES", "Remote store: retries of an idempotent request "
                       "(reads, uploads) after a connection failure, with exponential backoff.",
                       int),
    )
    base_iri: str = field(
        default="https://w3id.org/maillage/",
        metadata=_meta("MAILLAGE_BASE_IRI", "Base IRI of every minted resource (ends with /)."),
    )
    public_url: str = field(
        default="",
        metadata=_meta(
            "MAILLAGE_PUBLIC_URL",
            "Public URL of the web server (defaults to the base IRI when deployed behind it).",
        ),
    )
    query_timeout_s: float = field(
        default=30.0,
        metadata=_meta("MAILLAGE_QUERY_TIMEOUT", "SPARQL query time limit, seconds.", float),
    )
    row_limit: int = field(
        default=10_000,
        metadata=_meta("MAILLAGE_ROW_LIMIT", "Maximum rows of a SELECT on the endpoint.", int),
    )
    workers: int = field(
        default=2,
        metadata=_meta("MAILLAGE_WORKERS", "Query worker processes of the web server.", int),
    )
    worker_threads: int = field(
        default=4,
        metadata=_meta("MAILLAGE_WORKER_THREADS", "Query threads per web worker process.", int),
    )
    updates_enabled: bool = field(
        default=False,
        metadata=_meta("MAILLAGE_UPDATES", "Enable SPARQL Update / Graph Store writes.", _bool),
    )
    admin_token: str = field(
        default="",
        metadata=_meta("MAILLAGE_ADMIN_TOKEN", "Bearer token required for writes and reload."),
    )
    max_body_bytes: int = field(
        default=5_000_000,
        metadata=_meta("MAILLAGE_MAX_BODY", "Largest request body the web server accepts.", int),
    )
    dump_dir: str = field(
        default="",
        metadata=_meta("MAILLAGE_DUMP_DIR", "Cache directory of the dumps (default: system temp)."),
    )

    def __post_init__(self) -> None:
        if not self.base_iri.endswith(("/", "#")):
            raise ConfigError(
                f"base IRI {self.base_iri!r} must end with '/'",
                hint="set MAILLAGE_BASE_IRI to something like https://example.org/maillage/",
            )

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Build settings from environment variables, then explicit overrides (not None)."""
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f.metadata["env"])
            if raw is not None and raw != "":
                try:
                    values[f.name] = f.metadata["parse"](raw)
                except ValueError as exc:
                    raise ConfigError(f"{f.metadata['env']}={raw!r}: {exc}") from exc
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)

    def with_(self, **changes: Any) -> Settings:
        return replace(self, **changes)

    @property
    def is_remote(self) -> bool:
        """True when the store is a SPARQL server reached over HTTP."""
        return self.store.startswith(("http://", "https://"))

    @property
    def store_path(self) -> Path:
        return Path(self.store).expanduser()


def settings_table() -> list[dict[str, str]]:
    """The settings as rows (name, env, default, help): drives docs and ``maillage settings``."""
    rows = []
    for f in fields(Settings):
        default = f.default_factory() if callable(f.default_factory) else f.default  # type: ignore[misc]
        rows.append(
            {"name": f.name, "env": f.metadata["env"], "default": str(default), "help": f.metadata["help"]}
        )
    return rows
