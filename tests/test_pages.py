"""Every demo page as outside tools see it: the Nu HTML Checker finds no error, axe-core no serious or
critical violation (with the notices a visit may show), in normal and in elder mode."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from h5press.check import axe
from h5press.cli import cli

REPO = Path(__file__).resolve().parent.parent
VNU = Path(os.environ.get("H5PRESS_VNU_JAR") or REPO / ".ci/validators/node_modules/vnu-jar/build/dist/vnu.jar")


@pytest.fixture(scope="module", params=["normal", "elder"])
def demo(request, tmp_path_factory) -> Path:
    """The demo site built into a temporary dist/; in elder mode every campaign sets `elder_mode`."""
    project = tmp_path_factory.mktemp(request.param) / "site"
    shutil.copytree(REPO / "content", project / "content")
    shutil.copy(REPO / "h5press.yaml", project)
    if request.param == "elder":
        for config in (project / "content").glob("*/campaign.yaml"):
            config.write_text(config.read_text("utf-8") + "\nelder_mode: true\n", "utf-8")
    result = CliRunner().invoke(cli, ["build", "--project", str(project), "--workers", "1"])
    assert result.exit_code == 0, result.output
    return project / "dist"


# The notices a visit may show: the campaign window line and the update prompt with its 刷新 button.
SHOW_NOTICES = """() => document.querySelectorAll('#h5-window, #h5-update').forEach(el => {
    el.hidden = false;
    if (!el.textContent.trim()) el.textContent = el.dataset.after;
})"""


def pages(dist: Path) -> list[str]:
    return sorted(p.relative_to(dist).as_posix() for p in dist.rglob("*.html"))


@pytest.mark.slow
def test_nu_html_checker_finds_no_error(demo):
    if not VNU.is_file() or not shutil.which("java"):
        pytest.skip(f"needs Java and the Nu HTML Checker at {VNU} (`npm ci --ignore-scripts` in .ci/validators, "
                    "or set H5PRESS_VNU_JAR)")
    found = subprocess.run(["java", "-jar", str(VNU), "--errors-only", "--format", "json", *map(str, demo.rglob("*.html"))],
                           capture_output=True, text=True, timeout=600)
    messages = json.loads(found.stderr or found.stdout)["messages"]
    errors = [f"{m['url'].split('/dist/')[-1]}:{m.get('lastLine')}: {m['message']}" for m in messages]
    assert errors == [] and len(pages(demo)) > 20


@pytest.mark.browser
def test_axe_finds_no_serious_or_critical_violation(demo, serve, browser):
    server = serve(demo)
    context = browser.new_context(viewport={"width": 375, "height": 700}, is_mobile=True, service_workers="block")
    page = context.new_page()
    found = []
    for path in pages(demo):
        page.goto(server.url(path), wait_until="load")
        page.evaluate("document.fonts.ready")
        page.evaluate(SHOW_NOTICES)
        page.evaluate(axe.SOURCE)
        found += [(path, f.rule, f.selector, f.message) for f in axe.findings(page.evaluate(axe.RUN))]
    context.close()
    assert found == []
