"""``maillage serve`` refuses to start without a store, or with unsafe settings."""

from __future__ import annotations

import subprocess
import sys


def _serve(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    return subprocess.run([sys.executable, "-m", "maillage.graph.cli", "serve", *args],
                          capture_output=True, text=True, timeout=60, check=False,
                          env={**os.environ, **(env or {})})


def test_serve_refuses_a_missing_store(tmp_path):
    done = _serve("--store", str(tmp_path / "nothing"), "--port", "1")
    assert done.returncode == 1
    assert "no Maillage store" in done.stderr and "maillage init" in done.stderr


def test_serve_refuses_updates_without_a_token(store_path):
    done = _serve("--store", str(store_path), "--port", "1", env={"MAILLAGE_UPDATES": "1"})
    assert done.returncode == 1 and "admin token" in done.stderr
