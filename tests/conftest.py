"""Shared fixtures: settings and stores on temporary directories (never the user's store)."""

from __future__ import annotations

import pytest

from maillage.graph.settings import Settings
from maillage.graph.store import MaillageStore

BASE = "https://w3id.org/maillage/"


@pytest.fixture
def settings(tmp_path, monkeypatch) -> Settings:
    monkeypatch.setenv("MAILLAGE_STORE", str(tmp_path / "store"))
    return Settings.from_env()


@pytest.fixture
def disk_store(settings) -> MaillageStore:
    return MaillageStore(settings.store_path)
