"""Medians, ratios and pass/fail against the targets; the printed table and the JSON file."""

from __future__ import annotations

import json
import os
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench.config import BenchConfig

Record = dict[str, Any]
RESULTS = Path(__file__).resolve().parent / "results"
MB = 1_000_000
RSS_LIMIT_MB = 60.0


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the summary: userbus (or the variant) against its baseline."""

    scenario: str
    metric: str
    value: str
    baseline: str
    ratio: float | None
    target: str
    passed: bool | None
    cpu_ratio: float | None = None
    """Baseline CPU per event / ours: above 1 means ours costs less CPU (steadier than rates)."""


def pick(records: Sequence[Record], scenario: str, runner: str | None = None) -> list[Record]:
    return [
        r
        for r in records
        if r["scenario"] == scenario and (runner is None or r["runner"] == runner)
    ]


def median(records: Sequence[Record], key: Callable[[Record], float]) -> float | None:
    values = [key(r) for r in records]
    return statistics.median(values) if values else None


def rate(records: Sequence[Record], scenario: str, runner: str) -> float | None:
    return median(pick(records, scenario, runner), lambda r: float(r["rate"]))


def cpu_per_event(records: Sequence[Record], scenario: str, runner: str) -> float | None:
    return median(pick(records, scenario, runner), lambda r: float(r["cpu_us_per_event"]))


def ratio_row(
    records: Sequence[Record],
    scenario: str,
    metric: str,
    runners: tuple[str, str],
    goal: float | None,
) -> Row | None:
    """``runners[0]`` against ``runners[1]`` by median rate; passes when the ratio >= goal."""
    ours, theirs = (rate(records, scenario, runner) for runner in runners)
    if ours is None or theirs is None:
        return None
    ratio = ours / theirs
    our_cpu, their_cpu = (cpu_per_event(records, scenario, runner) for runner in runners)
    return Row(
        scenario,
        metric,
        f"{runners[0]} {ours:,.0f}",
        f"{runners[1]} {theirs:,.0f}",
        ratio,
        f">= {goal:.2f}x" if goal else "(info)",
        ratio >= goal if goal else None,
        their_cpu / our_cpu if our_cpu and their_cpu else None,
    )


def latency_ms(records: Sequence[Record], runner: str, key: str) -> float | None:
    """Median over rounds of one latency statistic (``p50_ms``, ``p99_ms``, ``max_ms``)."""
    return median(pick(records, "latency", runner), lambda r: float(r["latency"][key]))


def latency_row(records: Sequence[Record], config: BenchConfig) -> Row | None:
    p50, p99, worst = (latency_ms(records, "userbus", k) for k in ("p50_ms", "p99_ms", "max_ms"))
    if p50 is None or p99 is None or worst is None:
        return None
    floor = latency_ms(records, "aiopika", "p99_ms")
    return Row(
        "latency",
        f"publish->handler @ {config.rate:,.0f}/s",
        f"p50 {p50:.2f} / p99 {p99:.2f} / max {worst:.1f} ms",
        f"aiopika p99 {floor:.2f} ms" if floor is not None else "",
        None,
        "p99 < 5 ms",
        p99 < 5.0,
    )


def worker_rss_mb(records: Sequence[Record]) -> float | None:
    """The largest peak RSS of any userbus worker process, in MB."""
    worker_runs = [
        r
        for r in records
        if r["scenario"] in ("consume", "fanout", "scaleout", "latency")
        and r["runner"] not in ("aiopika", "faststream")
    ]
    return max((r["peak_rss_bytes"] / MB for r in worker_runs), default=None)


def rss_row(records: Sequence[Record]) -> Row | None:
    peak = worker_rss_mb(records)
    if peak is None:
        return None
    return Row(
        "rss",
        "worker peak RSS (max of runs)",
        f"{peak:.1f} MB",
        "",
        None,
        f"< {RSS_LIMIT_MB:.0f} MB",
        peak < RSS_LIMIT_MB,
    )


def summarize(records: Sequence[Record], config: BenchConfig) -> list[Row]:
    fan = f"{config.fanout_apps} apps"
    scale = f"{config.workers} workers"
    rows = [
        ratio_row(records, "consume", "events/s", ("userbus", "aiopika"), 1.2),
        ratio_row(records, "consume", "events/s", ("userbus", "faststream"), 1.8),
        ratio_row(records, "publish", "events/s, confirms", ("userbus", "aiopika"), 1.0),
        latency_row(records, config),
        ratio_row(records, "fanout", "deliveries/s per process", (fan, "1 app"), 1.0),
        ratio_row(records, "scaleout", "events/s", (scale, "1 worker"), None),
        rss_row(records),
    ]
    return [row for row in rows if row is not None]


def details(records: Sequence[Record]) -> list[dict[str, Any]]:
    """Per scenario and runner: median rate, every round's rate, CPU per event, peak RSS."""
    seen: dict[tuple[str, str], list[Record]] = {}
    for record in records:
        seen.setdefault((record["scenario"], record["runner"]), []).append(record)
    return [
        {
            "scenario": scenario,
            "runner": runner,
            "rate_median": median(runs, lambda r: float(r["rate"])),
            "rates": [round(r["rate"]) for r in runs],
            "cpu_us_per_event": median(runs, lambda r: float(r.get("cpu_us_per_event") or 0.0)),
            "peak_rss_mb": median(runs, lambda r: r["peak_rss_bytes"] / MB),
            "cpu_pressure": median(runs, lambda r: float(r.get("cpu_pressure_avg10") or 0.0)),
            "note": note(runs),
        }
        for (scenario, runner), runs in seen.items()
    ]


def note(runs: Sequence[Record]) -> str:
    """Per round: latency p99, or how a scale-out run split the events between processes."""
    if all(r.get("latency") for r in runs):
        return "p99 ms: " + " ".join(f"{r['latency']['p99_ms']:.2f}" for r in runs)
    if all("per_process" in r for r in runs):
        return "split: " + " ".join("/".join(map(str, r["per_process"])) for r in runs)
    return ""


def table(rows: Sequence[Row], detail: Sequence[dict[str, Any]], config: BenchConfig) -> str:
    head = (
        f"Medians of {config.rounds} round(s); N={config.events:,}, "
        f"prefetch {config.prefetch}, {config.loop}. CPU ratio: baseline CPU per event / "
        "userbus's (> 1: userbus uses less CPU; steadier than rates on a busy machine).\n"
        "PSI %: CPU pressure (some avg10) after each run: above ~10, other work competed."
    )
    return "\n\n".join((head, summary_table(rows), detail_table(detail)))


def summary_table(rows: Sequence[Row]) -> str:
    verdict = {True: "PASS", False: "FAIL", None: "-"}
    return _format(
        ("scenario", "metric", "userbus", "baseline", "ratio", "target", "result", "CPU ratio"),
        [
            (r.scenario, r.metric, r.value, r.baseline, f"{r.ratio:.2f}x" if r.ratio else "",
             r.target, verdict[r.passed], f"{r.cpu_ratio:.2f}x" if r.cpu_ratio else "")
            for r in rows
        ],
    )  # fmt: skip


def detail_table(detail: Sequence[dict[str, Any]]) -> str:
    return _format(
        ("scenario", "runner", "median/s", "rounds", "CPU us/event", "peak RSS MB", "PSI %",
         "note"),
        [
            (d["scenario"], d["runner"], f"{d['rate_median']:,.0f}",
             " ".join(f"{x:,}" for x in d["rates"]), f"{d['cpu_us_per_event']:.0f}",
             f"{d['peak_rss_mb']:.1f}", f"{d['cpu_pressure']:.0f}", d["note"])
            for d in detail
        ],
    )  # fmt: skip


def _format(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(x)) for x in column) for column in zip(header, *rows, strict=False)]
    render = [header, ["-" * w for w in widths], *rows]
    return "\n".join(
        "  ".join(str(x).ljust(w) for x, w in zip(line, widths, strict=True)).rstrip()
        for line in render
    )


def write_json(document: dict[str, Any], started: datetime, directory: Path = RESULTS) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{started.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    path.write_text(json.dumps(document, indent=2, default=str) + "\n")
    return path


def document(
    config: BenchConfig,
    machine: dict[str, Any],
    records: Sequence[Record],
    started: datetime,
    error: str | None,
) -> dict[str, Any]:
    return {
        "started": started.isoformat(),
        "finished": datetime.now(UTC).isoformat(),
        "load_average_at_end": os.getloadavg(),
        "complete": error is None,
        "error": error,
        "config": config.to_json(),
        "machine": machine,
        "summary": [asdict(row) for row in summarize(records, config)],
        "details": details(records),
        "records": list(records),
    }
