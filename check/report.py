"""The outputs of `h5press check`: an HTML report, JUnit XML, and a JSON summary."""
from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import jinja2

from .findings import Visit

TEMPLATE = Path(__file__).resolve().parent / "report.html"


def _rel(path: Path | None, base: Path) -> str | None:
    return os.path.relpath(path, base) if path else None


def html_report(visits: list[Visit], devices: list[str], out: Path, title: str, seconds: float) -> Path:
    env = jinja2.Environment(autoescape=True, trim_blocks=True, lstrip_blocks=True)
    pages = sorted({v.page for v in visits})
    grid = {(v.page, v.device): v for v in visits}
    html = env.from_string(TEMPLATE.read_text("utf-8")).render(
        title=title, pages=pages, devices=devices, grid=grid, seconds=seconds,
        rel=lambda p: _rel(p, out), errors=sum(len(v.errors) for v in visits),
        warnings=sum(len(v.warnings) for v in visits), waived=sum(1 for v in visits for f in v.findings if f.waived))
    path = out / "index.html"
    path.write_text(html, "utf-8")
    (out / "check.json").write_text(json.dumps([v.as_json() for v in visits], ensure_ascii=False, indent=1), "utf-8")
    return path


def junit(visits: list[Visit], path: Path, seconds: float) -> None:
    """One test case per page × profile; errors fail it, warnings and waivers go to system-out."""
    suite = ET.Element("testsuite", name="h5press check", tests=str(len(visits)),
                       failures=str(sum(1 for v in visits if v.errors)), errors="0", time=f"{seconds:.2f}")
    for visit in visits:
        case = ET.SubElement(suite, "testcase", classname=visit.device, name=visit.page, time=f"{visit.ms / 1000:.2f}")
        if visit.errors:
            failure = ET.SubElement(case, "failure", message=f"{len(visit.errors)} error(s): {visit.errors[0].message}")
            failure.text = "\n".join(f"[{f.rule}] {f.message} {f.selector}".strip() for f in visit.errors)
        notes = [f"[{f.rule}] warning: {f.message} {f.selector}".strip() for f in visit.warnings]
        notes += [f"[{f.rule}] waived ({f.waived}): {f.message}" for f in visit.findings if f.waived]
        if notes:
            ET.SubElement(case, "system-out").text = "\n".join(notes)
    path.parent.mkdir(parents=True, exist_ok=True)
    root = ET.Element("testsuites", name="h5press", tests=str(len(visits)), failures=suite.get("failures", "0"))
    root.append(suite)
    tree = ET.ElementTree(root)
    ET.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)
