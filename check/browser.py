"""Locating a Chromium for Playwright: a Playwright-managed browser first, then the system's.

Shared by everything that drives a browser, so they all prefer the same binary and fail with
the same instructions when there is none.
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

SYSTEM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
INSTALL_HINT = ("no Chromium found. Install one with `python -m playwright install chromium`, or on Debian/Ubuntu "
                "`apt-get install chromium`, or pass --browser /path/to/chrome")
# Flags for a headless browser in containers and closed networks (root needs --no-sandbox).
LAUNCH_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking",
               "--disable-component-update", "--disable-sync", "--no-first-run"]


class BrowserNotFound(RuntimeError):
    pass


def find_chromium(explicit: str | None = None, managed: str | None = None) -> str | None:
    """Path of the browser to launch, or None to let Playwright use its own managed build.

    `managed` is Playwright's expected executable path (`playwright.chromium.executable_path`).
    """
    if explicit:
        path = shutil.which(explicit) or explicit
        if not Path(path).is_file():
            raise BrowserNotFound(f"--browser {explicit}: no such executable")
        return path
    if managed and Path(managed).is_file():
        return None
    for name in SYSTEM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserNotFound(INSTALL_HINT)


def launch_options(explicit: str | None = None, managed: str | None = None) -> dict[str, Any]:
    """Keyword arguments for `playwright.chromium.launch()`."""
    path = find_chromium(explicit or os.environ.get("H5PRESS_BROWSER"), managed)
    options: dict[str, Any] = {"args": LAUNCH_ARGS}
    if path:
        options["executable_path"] = path
    return options
