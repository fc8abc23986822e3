"""The README and docs/: the generated references match the models, and every relative link resolves."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from h5press.generator import reference

ROOT = Path(reference.__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)")
CODE = re.compile(r"^(```|~~~).*?^\1", re.M | re.S)


@pytest.mark.parametrize("path", list(reference.render()), ids=lambda p: p.name)
def test_reference_is_up_to_date(path: Path) -> None:
    expected = reference.render()[path]
    actual = path.read_text("utf-8") if path.is_file() else ""
    assert actual == expected, f"{path.relative_to(ROOT)} is out of date with the models: run `{reference.COMMAND}`"


def _relative_links(page: Path) -> list[str]:
    text = re.sub(r"`[^`\n]*`", "", CODE.sub("", page.read_text("utf-8")))
    return [target for target in LINK.findall(text) if not re.match(r"^([a-z][a-z0-9+.-]*:|#)", target)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_point_to_files(page: Path) -> None:
    broken = [target for target in _relative_links(page) if not (page.parent / target.split("#", 1)[0]).exists()]
    assert not broken, f"{page.relative_to(ROOT)} links to missing files: {broken}"


def test_readme_starts_with_the_two_setup_commands() -> None:
    """CI (.ci/run) runs the README's first code block: a virtual environment, install and build,
    then the tests from that environment."""
    first_block = CODE.search((ROOT / "README.md").read_text("utf-8"))
    assert first_block is not None
    commands = [line.split("#")[0].strip() for line in first_block.group(0).splitlines()[1:-1]]
    assert commands == ["python3 -m venv .venv && . .venv/bin/activate && pip install -e '.[test]' && h5press build",
                        "python -m pytest"]
    ci = (ROOT / ".ci" / "run").read_text("utf-8").splitlines()
    assert all(command in ci for command in commands), "CI runs the README's commands, each as a line of .ci/run"
