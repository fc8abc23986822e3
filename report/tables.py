"""The report's tables as CSV files (UTF-8 with a byte-order mark, so spreadsheet programs read the Chinese
right): `<campaign>-<table>.csv` for daily, funnel, pages, components, share channels and experiments."""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from typing import Any


def _csv(header: list[str], rows: Iterable[list[Any]]) -> bytes:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return ("\ufeff" + text.getvalue()).encode()


def _plain(rows: list[dict[str, Any]]) -> bytes:
    """Rows of one shape: their keys are the header; nested values as JSON."""
    header = list(rows[0]) if rows else []
    return _csv(header, ([json.dumps(v, ensure_ascii=False) if isinstance(v, dict) else v for v in r.values()] for r in rows))


def _experiments(experiments: dict[str, Any]) -> bytes:
    header = ["experiment", "variant", "visitors", "dwell_mean_s", "dwell_median_s", "dwell_p75_s", "share_rate",
              "dwell_uplift", "dwell_ci_low", "dwell_ci_high", "share_uplift", "share_ci_low", "share_ci_high"]
    rows = []
    for name, exp in experiments.items():
        for variant, v in exp["variants"].items():
            up = exp["uplift"].get(variant, {})
            cells = []
            for metric in ("dwell_s", "share_rate"):
                u = up.get(metric) or {}
                low, high = u.get("ci95") or (None, None)
                cells += [u.get("estimate"), low, high]
            rows.append([name, variant, v["visitors"], v["dwell_s"]["mean"], v["dwell_s"]["median"], v["dwell_s"]["p75"],
                         v["share_rate"], *cells])
    return _csv(header, rows)


def csv_files(report: dict[str, Any]) -> dict[str, bytes]:
    files = {}
    for name, c in report["campaigns"].items():
        for table in ("daily", "funnel", "pages", "components", "share_channels"):
            files[f"{name}-{table}.csv"] = _plain(c[table])
        files[f"{name}-experiments.csv"] = _experiments(c["experiments"])
    return files
