"""`h5press report` on small hand-written event sets whose every figure is worked out by hand in the
comments, from a file, standard input, SQLite and PostgreSQL; its error paths; export round trips; the
progress of a read on a terminal."""
from __future__ import annotations

import json
import os
import pty
import re
import select
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("duckdb", reason="the report extra is not installed: pip install 'h5press[report]'")

from click.testing import CliRunner  # noqa: E402
from report_events import events as generated_events  # noqa: E402
from sqlalchemy import create_engine  # noqa: E402
from sqlalchemy import select as select_rows  # noqa: E402

from h5press.api.db import analytics, make_engine, schema_version  # noqa: E402
from h5press.api.migrations import MIGRATIONS, migrate  # noqa: E402
from h5press.cli import cli  # noqa: E402
from h5press.report import events as report_events_module  # noqa: E402
from h5press.report.events import MB, parse_at  # noqa: E402


def ev(id_: str, type_: str, at: str, visitor: str, session: str, payload: dict | None = None, component: str | None = None,
       page: str = "index.html", variants: dict | None = None, campaign: str = "green") -> dict[str, Any]:
    return {"id": id_, "campaign": campaign, "type": type_, "component": component, "payload": payload or {}, "at": at,
            "visitor": visitor, "session": session, "page": page, "variants": variants or {}}


A, B, C, D = {"hero": "a"}, {"hero": "b"}, {"hero": "b"}, {"hero": "a"}
# Campaign green, timezone Asia/Shanghai (UTC+8). Sessions and their dwell: sA1 20 s (15 + 5), sA2 10 s,
# sB1 60 s, sC1 40 s, sD1 0 s (no dwell event). B's events are at 16:30 UTC on 5 December: local 6 December.
EVENTS = [
    ev("vA1", "view", "2026-12-05T02:00:00.000Z", "A", "sA1", variants=A),
    ev("dA1", "dwell", "2026-12-05T02:00:15.000Z", "A", "sA1", {"view": "vA1", "ms": 15000}, variants=A),
    ev("dA2", "dwell", "2026-12-05T02:00:20.000Z", "A", "sA1", {"view": "vA1", "ms": 5000}, variants=A),
    ev("stA", "start", "2026-12-05T02:00:30.000Z", "A", "sA1", {"kind": "quiz"}, "q1", variants=A),
    ev("coA", "completion", "2026-12-05T02:00:40.000Z", "A", "sA1", {"kind": "quiz", "score": 3}, "q1", variants=A),
    ev("shA", "share", "2026-12-05T02:01:00.000Z", "A", "sA1", {"share": "S1", "channel": "wechat"}, variants=A),
    ev("clA", "claim", "2026-12-05T02:02:00.000Z", "A", "sA1", {"kind": "reward"}, "r1", variants=A),
    ev("vA2", "view", "2026-12-06T01:00:00.000Z", "A", "sA2", page="quiz.html", variants=A),
    ev("dA3", "dwell", "2026-12-06T01:00:10.000Z", "A", "sA2", {"view": "vA2", "ms": 10000}, page="quiz.html", variants=A),
    ev("vB1", "view", "2026-12-05T16:30:00.000Z", "B", "sB1", {"ref": "S1"}, variants=B),
    ev("dB1", "dwell", "2026-12-05T16:30:30.000Z", "B", "sB1", {"view": "vB1", "ms": 30000}, variants=B),
    ev("dB2", "dwell", "2026-12-05T16:31:00.000Z", "B", "sB1", {"view": "vB1", "ms": 30000}, variants=B),
    ev("stB", "start", "2026-12-05T16:31:05.000Z", "B", "sB1", {"kind": "quiz"}, "q1", variants=B),
    ev("shB", "share", "2026-12-05T16:31:10.000Z", "B", "sB1", {"share": "S2", "channel": "poster"}, variants=B),
    ev("vC1", "view", "2026-12-06T03:00:00.000Z", "C", "sC1", {"ref": "S2"}, variants=C),
    ev("dC1", "dwell", "2026-12-06T03:00:40.000Z", "C", "sC1", {"view": "vC1", "ms": 40000}, variants=C),
    ev("vD1", "view", "2026-12-06T05:00:00.000Z", "D", "sD1", {"ref": "nobody-shared-this"}, variants=D),
    ev("vD2", "view", "2026-12-06T05:10:00.000Z", "D", "sD1", {"ref": "S1"}, variants=D),  # not D's first view
    ev("vE1", "view", "2026-12-06T05:00:00.000Z", "E", "sE1", campaign="fund"),
]


def write_events(path: Path, events: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events), encoding="utf-8")
    return path


def report(tmp_path: Path, *args: str, input: str | None = None, project: Path | None = None) -> tuple[int, str, Path]:
    out = tmp_path / "out"
    result = CliRunner().invoke(cli, ["report", "-p", str(project or tmp_path), "-o", str(out), *args], input=input)
    return result.exit_code, result.output, out


def green(tmp_path: Path, *args: str) -> dict[str, Any]:
    code, output, out = report(tmp_path, "--events", str(write_events(tmp_path / "e.ndjson", EVENTS)), *args)
    assert code == 0, output
    return json.loads((out / "report.json").read_text())["campaigns"]["green"]


def test_every_figure_of_a_hand_written_campaign(tmp_path: Path) -> None:
    c = green(tmp_path)
    assert (c["visitors"], c["sessions"], c["views"]) == (4, 5, 6)
    # sessions' dwell sorted: 0, 10, 20, 40, 60 → mean 26, median 20, p75 at position 3 of 0..4 → 40
    assert c["dwell_s"] == {"mean": 26.0, "median": 20.0, "p75": 40.0}
    assert c["share_rate"] == 0.5  # A and B shared
    assert c["k_factor"] == 0.5  # B came by A's share, C by B's; D's first view's ref names no share
    assert c["funnel"] == [{"step": "view", "visitors": 4}, {"step": "start", "visitors": 2},
                           {"step": "completion", "visitors": 1}, {"step": "share", "visitors": 1},
                           {"step": "claim", "visitors": 1}]
    assert c["pages"] == [{"page": "index.html", "views": 5, "visitors": 4, "dwell_s": 24.0},  # (20+60+40+0+0)/5
                          {"page": "quiz.html", "views": 1, "visitors": 1, "dwell_s": 10.0}]
    assert c["components"] == [{"component": "q1", "kind": "quiz", "visitors": 2, "events": {"completion": 1, "start": 2}},
                               {"component": "r1", "kind": "reward", "visitors": 1, "events": {"claim": 1}}]
    assert c["daily"] == [{"day": "2026-12-05", "visitors": 1, "sessions": 1, "views": 1, "shares": 1},
                          {"day": "2026-12-06", "visitors": 4, "sessions": 4, "views": 5, "shares": 1}]
    assert c["share_channels"] == [{"channel": "poster", "shares": 1, "visitors": 1},
                                   {"channel": "wechat", "shares": 1, "visitors": 1}]
    assert c["events"] == {"claim": 1, "completion": 1, "dwell": 6, "share": 2, "start": 2, "view": 6}
    assert [b["sessions"] for b in c["dwell_histogram"]] == [1, 2, 1, 1, 0, 0]  # 0 | 10, 20 | 40 | 60 | – | –
    hero = c["experiments"]["hero"]
    assert hero["baseline"] == "a"
    # a: A (sessions 20, 10) and D (0): mean 10, median 10, p75 15; b: B 60, C 40
    assert hero["variants"]["a"] == {"visitors": 2, "dwell_s": {"mean": 10.0, "median": 10.0, "p75": 15.0}, "share_rate": 0.5}
    assert hero["variants"]["b"] == {"visitors": 2, "dwell_s": {"mean": 50.0, "median": 50.0, "p75": 55.0}, "share_rate": 0.5}
    assert hero["uplift"]["b"]["dwell_s"]["estimate"] == pytest.approx(4.0)  # 50 / 10 - 1
    assert hero["uplift"]["b"]["share_rate"]["estimate"] == pytest.approx(0.0)
    low, high = hero["uplift"]["b"]["dwell_s"]["ci95"]
    assert low <= 4.0 <= high


def test_outputs_html_and_csv(tmp_path: Path) -> None:
    green(tmp_path)
    out = tmp_path / "out"
    page = (out / "index.html").read_text()
    assert "<script" not in page and "http" not in page.split("</head>")[0]  # nothing to run or fetch
    assert "每日访客" in page and "转化漏斗" in page and "分享渠道" in page and "停留时长分布" in page
    assert "B 的平均停留时长比 A 高 400 %（95 % 置信区间" in page
    assert page.count("<svg") >= 6
    funnel = (out / "green-funnel.csv").read_text(encoding="utf-8-sig").splitlines()
    assert funnel == ["step,visitors", "view,4", "start,2", "completion,1", "share,1", "claim,1"]
    assert (out / "green-experiments.csv").read_text(encoding="utf-8-sig").splitlines()[1].startswith("hero,a,2,10.0,")
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["report.json", "index.html", *(f"{c}-{t}.csv" for c in ("fund", "green")
                                        for t in ("daily", "funnel", "pages", "components", "share_channels", "experiments"))])


def test_same_figures_from_stdin_and_a_reproducible_interval(tmp_path: Path) -> None:
    text = "".join(json.dumps(e) + "\n" for e in EVENTS)
    code, output, out = report(tmp_path, "green", "--events", "-", input=text)
    assert code == 0, output
    from_stdin = json.loads((out / "report.json").read_text())["campaigns"]
    assert list(from_stdin) == ["green"]  # the campaign asked for, only
    assert from_stdin["green"] == green(tmp_path)  # the same seed: the same intervals too


@pytest.mark.parametrize(("window", "expected"), [
    # 6 December (local) only: A's second session, B (00:30 local), C, D; A's share is outside, so only C came by a share
    (["--from", "2026-12-06", "--to", "2026-12-06"], {"visitors": 4, "sessions": 4, "views": 5, "k_factor": 0.25}),
    # up to 5 December (local): A's first session only; B's events are on the 6th in Shanghai
    (["--to", "2026-12-05"], {"visitors": 1, "sessions": 1, "views": 1, "k_factor": 0.0}),
    (["--from", "2026-12-06"], {"visitors": 4, "sessions": 4, "views": 5, "k_factor": 0.25}),
])
def test_date_filters_are_days_of_the_campaign_timezone(tmp_path: Path, window: list[str], expected: dict) -> None:
    c = green(tmp_path, "green", *window)
    assert {k: c[k] for k in expected} == expected
    assert all(window[i + 1] in {d["day"] for d in c["daily"]} for i in range(0, len(window), 2))


def test_funnel_from_campaign_yaml_and_from_the_command_line(tmp_path: Path) -> None:
    (tmp_path / "content" / "green").mkdir(parents=True)
    (tmp_path / "content" / "green" / "campaign.yaml").write_text(
        "title: 绿色\ntimezone: Asia/Shanghai\nanalytics:\n  funnel: [view, 'start:q1', 'completion:quiz', share]\n")
    c = green(tmp_path, "green")
    assert c["funnel"] == [{"step": "view", "visitors": 4}, {"step": "start:q1", "visitors": 2},
                           {"step": "completion:quiz", "visitors": 1}, {"step": "share", "visitors": 1}]
    c = green(tmp_path, "green", "--funnel", "view,share")
    assert c["funnel"] == [{"step": "view", "visitors": 4}, {"step": "share", "visitors": 2}]


def test_a_bad_funnel_is_refused_at_its_line(tmp_path: Path) -> None:
    (tmp_path / "content" / "green").mkdir(parents=True)
    (tmp_path / "content" / "green" / "campaign.yaml").write_text(
        "title: 绿色\nanalytics:\n  funnel:\n    - view\n    - 'start quiz'\n")
    code, output, out = report(tmp_path, "--events", str(write_events(tmp_path / "e.ndjson", EVENTS)))
    assert code == 1
    assert "content/green/campaign.yaml:5: analytics.funnel[1]" in output and '"start quiz" is not a funnel step' in output
    assert not out.exists()
    code, output, out = report(tmp_path, "--events", str(tmp_path / "e.ndjson"), "--funnel", "view,,share")
    assert code == 2 and "--funnel" in output and not out.exists()


@pytest.mark.parametrize(("line", "problem"), [
    ("{not json", "not JSON"),
    (json.dumps({**EVENTS[0], "at": "yesterday"}), '"at" must be an ISO-8601 time'),
    (json.dumps({k: v for k, v in EVENTS[0].items() if k != "visitor"}), '"visitor" must be a non-empty string'),
    (json.dumps({**EVENTS[0], "variants": ["a"]}), '"variants" must be a JSON object'),
])
def test_a_bad_line_is_named_by_its_number(tmp_path: Path, line: str, problem: str) -> None:
    path = tmp_path / "e.ndjson"
    path.write_text("".join(json.dumps(e) + "\n" for e in EVENTS[:2]) + line + "\n" + json.dumps(EVENTS[3]) + "\n")
    code, output, out = report(tmp_path, "--events", str(path))
    assert code == 1
    assert f"{path}:3: {problem}" in output
    assert not out.exists()


def test_error_paths_write_nothing(tmp_path: Path) -> None:
    events = str(write_events(tmp_path / "e.ndjson", EVENTS))
    for args, code, says in [
        (["nope", "--events", events], 1, "no events of campaign nope (campaigns with events in the window: fund, green)"),
        (["--events", events, "--from", "2026-13-01"], 2, "'2026-13-01' does not match the format"),
        (["--events", events, "--from", "2026-12-07", "--to", "2026-12-06"], 1, "--from 2026-12-07 is after --to 2026-12-06"),
        (["--events", str(tmp_path / "missing.ndjson")], 1, "missing.ndjson: no such file"),
        (["--db", str(write_events(tmp_path / "not-a-db.sqlite3", EVENTS))], 1, "not-a-db.sqlite3: DatabaseError"),
        (["--db", str(tmp_path / "none.sqlite3")], 1, "none.sqlite3: FileNotFoundError: no such file"),
    ]:
        code_, output, out = report(tmp_path, *args)
        assert (code_, says in output) == (code, True), output
        assert not out.exists()
    assert not (tmp_path / "none.sqlite3").exists()


def test_a_failed_report_leaves_the_previous_one(tmp_path: Path) -> None:
    green(tmp_path)
    before = (tmp_path / "out" / "report.json").read_bytes()
    code, _, out = report(tmp_path, "nope", "--events", str(tmp_path / "e.ndjson"))
    assert code == 1 and (out / "report.json").read_bytes() == before
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == []


def store(url: str, events: list[dict[str, Any]]) -> None:
    """Events into the API's analytics table, as the ingestion endpoint stores them."""
    engine = make_engine(url)
    migrate(engine)
    with engine.begin() as conn:
        conn.execute(analytics.insert(), [
            {"campaign": e["campaign"], "event_id": e["id"], "type": e["type"], "component": e["component"],
             "payload": json.dumps(e["payload"]), "at_ms": parse_at(e["at"]), "received_ms": parse_at(e["at"]),
             "visitor": e["visitor"], "session": e["session"], "page": e["page"], "variants": json.dumps(e["variants"])}
            for e in events])
    engine.dispose()


def test_report_from_the_database_and_the_export_round_trip(tmp_path: Path, db_url: str) -> None:
    store(db_url, EVENTS)
    code, output, out = report(tmp_path, "fund", "green", "--db", db_url, "--from", "2026-12-01", "--export-events",
                               str(tmp_path / "x.ndjson"), "-o", str(tmp_path / "db"))
    assert code == 0, output
    from_db = json.loads((tmp_path / "db" / "report.json").read_text())["campaigns"]
    assert from_db["green"] == green(tmp_path)
    exported = [json.loads(line) for line in (tmp_path / "x.ndjson").read_text().splitlines()]
    assert sorted(exported, key=lambda e: e["id"]) == sorted(EVENTS, key=lambda e: e["id"])
    assert list(exported[0]) == ["id", "campaign", "type", "component", "payload", "at", "visitor", "session", "page", "variants"]
    code, output, _ = report(tmp_path, "--events", str(tmp_path / "x.ndjson"), "-o", str(tmp_path / "again"))
    assert code == 0, output
    assert json.loads((tmp_path / "again" / "report.json").read_text())["campaigns"] == from_db


def odd_events() -> list[dict[str, Any]]:
    """Generated visitors and the rows a column-wise reader could trip on: over a thousand rows without a
    component first (SQLite's driver takes a column's type from its first rows), an empty component (not
    absent), a mistyped `ms`, and quotes, tabs, line breaks and Chinese in values."""
    rows = sorted(generated_events(3000, seed=3), key=lambda e: e["component"] is not None)
    first = rows[0]
    odd = {**first, "component": "", "page": "活动\t\"页\"\n'a'.html", "payload": {"kind": "quiz", "note": "说\"好\"\n\\"}}
    return [*rows, {**odd, "id": "odd1", "type": "start"},
            {**odd, "id": "odd2", "type": "dwell", "component": None, "payload": {"view": first["id"], "ms": "abc"}}]


def test_the_database_gives_the_figures_of_its_export(tmp_path: Path, db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    events = odd_events()
    store(db_url, events)
    monkeypatch.setattr(report_events_module, "BLOCK", 1500)  # three queries, read two at a time; the second starts
    # with more than a thousand rows without a component
    code, output, _ = report(tmp_path, "--db", db_url, "--export-events", str(tmp_path / "x.ndjson"), "-o", str(tmp_path / "db"))
    assert code == 0, output
    assert [line for line in output.splitlines() if line.startswith("read ")] == \
        [f"read {n}/{len(events)}" for n in (1500, 3000, len(events))]  # the progress, after each query
    code, output, _ = report(tmp_path, "--events", str(write_events(tmp_path / "e.ndjson", events)), "-o", str(tmp_path / "file"))
    assert code == 0, output
    from_db, from_file = (json.loads((tmp_path / d / "report.json").read_text())["campaigns"] for d in ("db", "file"))
    assert from_db == from_file
    assert from_db["green"]["components"][0]["component"] == ""  # an empty component is one, a missing one is not
    exported = [json.loads(line) for line in (tmp_path / "x.ndjson").read_text().splitlines()]
    assert sorted(exported, key=lambda e: e["id"]) == sorted(events, key=lambda e: e["id"])


# `h5press report` with its export's read shown at once, not after PATIENCE seconds (so a small export shows it).
AT_ONCE = "from h5press.report import events; events.PATIENCE = 0; from h5press.cli import main; main()"


def on_a_terminal(args: list[str], stdin: Path | None = None, at_once: bool = True) -> str:
    """What `h5press report ARGS` writes to its terminal (standard output and error, a pseudo-terminal)."""
    controller, terminal = pty.openpty()
    command = [sys.executable, "-c", AT_ONCE] if at_once else [sys.executable, "-m", "h5press"]
    with stdin.open("rb") if stdin else open(os.devnull, "rb") as given:
        process = subprocess.Popen([*command, "report", *args], stdin=given, stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown, deadline = b"", time.monotonic() + 120
    try:
        while time.monotonic() < deadline and select.select([controller], [], [], deadline - time.monotonic())[0]:
            try:
                chunk = os.read(controller, 1 << 16)
            except OSError:  # the process and its terminal are gone
                break
            shown += chunk
    finally:
        os.close(controller)
        if process.poll() is None:
            process.kill()
    assert process.wait(10) == 0, shown
    return shown.decode().replace("\r\n", "\n")


def campaigns(out: Path) -> dict[str, Any]:
    return json.loads((out / "report.json").read_text())["campaigns"]


def test_the_daily_chart_of_many_days_prints_the_busiest_and_the_last_days_count_inside_the_chart(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.ndjson", list(generated_events(5_000, seed=3)))
    code, output, out = report(tmp_path, "--events", str(path))
    assert code == 0, output
    daily = json.loads((out / "report.json").read_text())["campaigns"]["green"]["daily"]
    chart = (out / "index.html").read_text().split('aria-label="每日访客">')[1].split("</svg>")[0]
    printed = re.findall(r'<text class="v" x="[^"]+" y="([^"]+)">([^<]+)</text>', chart)
    assert len(daily) > 10 and chart.count("<rect") == len(daily)  # every day a column; too many for every count
    busiest = max(d["visitors"] for d in daily)
    assert [v for _, v in printed] == [f"{d['visitors']:,}" for d in daily if d["visitors"] == busiest or d is daily[-1]]
    assert all(float(y) >= 12 for y, _ in printed)  # the busiest day's count above its column, inside the chart


@pytest.mark.parametrize("source", ["file", "stdin"])
def test_the_export_read_shows_progress_on_a_terminal_only(tmp_path: Path, source: str, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_events(tmp_path / "e.ndjson", list(generated_events(20_000, seed=5)))
    total = -(-path.stat().st_size // MB)
    args = ["-p", str(tmp_path), "--events", str(path) if source == "file" else "-"]
    shown = on_a_terminal([*args, "-o", str(tmp_path / "tty")], path if source == "stdin" else None)
    read = shown.split("\n")[1]  # after the line "reading …"
    assert read.startswith("\rread 1 MB\r" if source == "stdin" else "\r[")  # standard input: MB received (of no total)
    assert read.endswith(f"\r[{'#' * 30}] {total}/{total} MB")  # the bar ends complete, its line ended
    monkeypatch.setattr(report_events_module, "PATIENCE", 0)
    result = CliRunner().invoke(cli, ["report", *args, "-o", str(tmp_path / "log")], input=path.read_text())
    assert result.exit_code == 0, result.output
    assert " MB" not in result.output and "\r" not in result.output  # not a terminal: no progress of the read
    assert campaigns(tmp_path / "tty") == campaigns(tmp_path / "log")


def test_a_quick_read_shows_no_progress(tmp_path: Path) -> None:
    path = write_events(tmp_path / "e.ndjson", EVENTS)
    shown = on_a_terminal(["-p", str(tmp_path), "--events", str(path), "-o", str(tmp_path / "out")], at_once=False)
    assert " MB" not in shown and campaigns(tmp_path / "out")["green"] == green(tmp_path)


@pytest.mark.parametrize(("change", "problem"), [
    ({"payload": "{not json"}, '"payload" is not JSON: "{not json"'),
    ({"visitor": ""}, '"visitor" must be a non-empty string'),
    ({"variants": "[]"}, '"variants" must be a JSON object'),
    ({"visitor": "01JD\x1fX"}, '"visitor" holds the control character U+001F'),  # would split its row in seven
    ({"payload": '{"note": "a\x1fb"}'}, '"payload" holds the control character U+001F'),
])
def test_a_stored_row_that_is_no_event_is_named(tmp_path: Path, db_url: str, change: dict[str, str], problem: str) -> None:
    store(db_url, EVENTS)
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(analytics.update().where(analytics.c.event_id == "dA2").values(**change))
    engine.dispose()
    code, output, out = report(tmp_path, "--db", db_url)
    assert code == 1
    assert f"analytics row 3 (event dA2): {problem}" in output, output
    assert not out.exists()


def test_export_alone_with_a_window_and_the_env_database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    store(url, EVENTS)
    monkeypatch.setenv("H5PRESS_API_DB", url)
    result = CliRunner().invoke(cli, ["report", "-p", str(tmp_path), "green", "--to", "2026-12-05", "--export-events",
                                      str(tmp_path / "x.ndjson")])
    assert result.exit_code == 0, result.output
    assert [json.loads(line)["id"] for line in (tmp_path / "x.ndjson").read_text().splitlines()] == \
        ["vA1", "dA1", "dA2", "stA", "coA", "shA", "clA"]
    assert not (tmp_path / "campaign-report").exists()  # an export alone writes no report


def test_a_database_without_the_api_tables(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    create_engine(url).connect().close()
    code, output, out = report(tmp_path, "--db", url)
    assert code == 1 and f"database {url}: holds no tables of h5press api" in output and not out.exists()


def test_a_database_at_another_schema_version_is_named_and_left_as_it_is(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    store(url, EVENTS)
    engine = make_engine(url)
    reads = len(MIGRATIONS)
    for version, says in ((reads - 1, f"at schema version {reads - 1}, this h5press reads version {reads}: `h5press api` migrates"),
                          (reads + 1, f"at schema version {reads + 1}, newer than this h5press reads ({reads}): upgrade h5press")):
        with engine.begin() as conn:
            conn.execute(schema_version.update().values(version=version))
        code, output, out = report(tmp_path, "--db", url)
        assert code == 1 and f"database {url}: {says}" in output and not out.exists()
        with engine.connect() as conn:
            assert conn.execute(select_rows(schema_version.c.version)).scalar_one() == version  # not migrated
    engine.dispose()


def test_the_control_declared_first_in_campaign_yaml_is_the_baseline(tmp_path: Path) -> None:
    (tmp_path / "content" / "green").mkdir(parents=True)
    (tmp_path / "content" / "green" / "campaign.yaml").write_text(
        "title: 绿色\ntimezone: Asia/Shanghai\nexperiments:\n  - {id: hero, variants: {b: 50, a: 50}}\n")
    hero = green(tmp_path, "green")["experiments"]["hero"]
    assert hero["baseline"] == "b" and list(hero["variants"]) == ["b", "a"]
    assert hero["uplift"]["a"]["dwell_s"]["estimate"] == pytest.approx(-0.8)  # 10 / 50 - 1
