"""Pages in headless Chromium (Debian package ``chromium``, installed by
``scripts/install-system-deps.sh``): a resource page and the query editor, with every host but
the test server unresolvable, so the pages must work offline (no CDN, no outside font).

Screenshots are left in the test's temporary folder for people to look at.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed"),
]


def chromium(url: str, tmp_path, *args: str) -> str:
    """Run headless Chromium offline (only 127.0.0.1 resolves) and return its stdout."""
    command = [
        CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--disable-dev-shm-usage", f"--user-data-dir={tmp_path / 'profile'}",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1", *args, url,
    ]
    done = subprocess.run(command, capture_output=True, timeout=120, check=False)
    return done.stdout.decode("utf-8", "replace")


def test_resource_page_renders(server, tmp_path):
    url = f"{server.url}/id/structure/900000019.html"
    dom = chromium(url, tmp_path, "--dump-dom")
    assert "<h1>Ressourcerie du Onze</h1>" in dom
    assert re.search(r'<svg[^>]*class="map"', dom)
    chromium(url, tmp_path, "--window-size=1280,1400", f"--screenshot={tmp_path / 'page.png'}")
    assert (tmp_path / "page.png").stat().st_size > 10_000


def test_query_editor_runs_a_named_query_offline(server, tmp_path):
    dom = chromium(f"{server.url}/query?run=1", tmp_path, "--virtual-time-budget=15000",
                   "--dump-dom")
    assert 'class="yasgui' in dom or "yasgui" in dom
    chip = re.search(r'yasr_response_chip">(\d+) results? in', dom)
    assert chip, "YASGUI did not show a result"
    assert int(chip.group(1)) > 0
    assert re.search(r'<table[^>]*class="dataTable', dom)
    assert "panorama_domaines" in dom
