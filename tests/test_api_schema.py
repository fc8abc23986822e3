"""The OpenAPI document against the real server: schemathesis sends generated and mutated requests to
every operation and runs all its checks (no 5xx, every status and body as documented, invalid input
refused, `Allow` on 405, ...)."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

pytestmark = pytest.mark.slow

CONFIG = """\
[parameters]
"path.vote" = "commute"
"path.lottery" = "wheel"
"""


def test_schemathesis_all_checks_pass_against_the_live_server(live_server, tmp_path):
    url = live_server(admin_token="admin-token-0123456789")
    token = httpx.post(f"{url}/api/v1/session").json()["token"]
    command = [str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json", "--checks", "all",
               "--header", f"Authorization: Bearer {token}", "--max-examples", "25", "--seed", "17",
               "--exclude-path", "/api/v1/campaigns/{campaign}/stream",  # an endless event stream
               "--generation-database", "none", "--no-color", "--request-timeout", "20", "--max-response-time", "15",
               # the documented text rule: valid UTF-8 without NUL (tests/test_api_defects.py covers the rest)
               "--generation-allow-x00", "false", "--generation-codec", "utf-8"]
    # A known vote and lottery: generated requests reach the rules, not only "no such vote" (the campaigns
    # are listed in the OpenAPI document).
    (tmp_path / "schemathesis.toml").write_text(CONFIG, "utf-8")
    run = subprocess.run(command, capture_output=True, text=True, timeout=900, cwd=tmp_path)
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
