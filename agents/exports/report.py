"""The run report: report.html plus PNG plots, readable offline with no external assets.

Plots: acceptance funnel per phase, failure reasons, turns and tool-call histograms, tool
usage, pass^k, tokens and cost per phase, episode wall time and throughput.
"""

from __future__ import annotations

import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread

from agents.exports.collect import trajectories
from agents.passk import PassKReport, passk_from_store
from agents.roles.verifier import verifier_params
from runtime.exports import ExportSource

_REASON_CODE = re.compile(r"^([^:]+:\s*[A-Za-z_]+)")


@dataclass
class ReportData:
    """Everything the report shows, gathered from the store before any drawing."""

    title: str
    metadata: dict[str, Any]
    counts: dict[str, dict[str, int]]
    funnels: dict[str, list[tuple[str, int, int]]]
    reasons: dict[str, Counter[str]]
    turns: list[int] = field(default_factory=list)
    tool_calls: list[int] = field(default_factory=list)
    tool_usage: Counter[str] = field(default_factory=Counter)
    passk: dict[str, PassKReport] = field(default_factory=dict)
    tokens: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)


def reason_code(reason: str) -> str:
    """`step: code` from a full reason, so that reasons group by kind, not by detail."""
    found = _REASON_CODE.match(reason)
    return found.group(1) if found else reason[:60]


async def gather(source: ExportSource) -> ReportData:
    store, run_id = source.store, source.run.run_id
    reasons: dict[str, Counter[str]] = {}
    for row in await store.events(run_id, "step"):
        step = json.loads(row["payload_json"])
        if not step.get("passed", True):
            first = (step.get("reasons") or ["failed"])[0]
            reasons.setdefault(row["phase"], Counter())[
                reason_code(f"{step.get('step')}: {first}")
            ] += 1
    data = ReportData(
        title=source.run.name,
        metadata=source.metadata(),
        counts=await store.status_counts(run_id),
        funnels=await store.funnel(run_id),
        reasons=reasons,
    )
    for record in await trajectories(source, include_rejected=True):
        data.turns.append(record.transcript.turns)
        calls = record.transcript.tool_calls()
        data.tool_calls.append(len(calls))
        data.tool_usage.update(call.name for call in calls)
    for config in source.playbook.phases:
        if verifier_params(config) is not None:
            data.passk[config.name] = await passk_from_store(store, run_id, config.name)
    for row in await store.model_calls(run_id):
        prompt, completion, cost = data.tokens.get(row["phase"] or "(none)", (0, 0, 0.0))
        data.tokens[row["phase"] or "(none)"] = (
            prompt + row["prompt_tokens"],
            completion + row["completion_tokens"],
            cost + row["cost_usd"],
        )
    items = await store.items(run_id)
    for item in items:
        data.durations.setdefault(item.phase, []).append(item.duration_s)
    for phase, durations in data.durations.items():
        stamps = [item.committed_at for item in items if item.phase == phase]
        span = max(stamps) - min(stamps) + max(durations) if stamps else 0.0
        data.throughput[phase] = len(durations) / span if span > 0 else 0.0
    return data


def _plots(data: ReportData, out: Path) -> list[tuple[str, str]]:
    """Draw every plot that has data; return (file name, caption) pairs."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    made: list[tuple[str, str]] = []

    def save(fig: Figure, name: str, caption: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=90)
        made.append((name, caption))

    if data.funnels:
        fig = Figure(figsize=(8, 1 + 2.2 * len(data.funnels)))
        for row, (phase, stages) in enumerate(data.funnels.items()):
            ax = fig.add_subplot(len(data.funnels), 1, row + 1)
            labels = [stage for stage, _, _ in stages] + ["accepted"]
            values = [passed for _, _, passed in stages]
            values.append(data.counts.get(phase, {}).get("accepted", 0))
            ax.barh(labels[::-1], values[::-1], color="#4c72b0")
            ax.set_title(f"{phase}: attempts passing each stage")
        save(fig, "funnel.png", "Acceptance funnel per phase")
    reasons = Counter({f"{p} / {r}": n for p, c in data.reasons.items() for r, n in c.items()})
    if reasons:
        top = reasons.most_common(12)
        fig = Figure(figsize=(8, 0.5 + 0.4 * len(top)))
        ax = fig.add_subplot()
        ax.barh([name for name, _ in top][::-1], [n for _, n in top][::-1], color="#c44e52")
        ax.set_title("Failed attempts by reason (phase / step: kind)")
        save(fig, "reasons.png", "Failure reasons by stage")
    if data.turns:
        fig = Figure(figsize=(8, 3))
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        left.hist(data.turns, bins=min(20, max(data.turns) + 1), color="#55a868")
        left.set_title("Turns per conversation")
        right.hist(data.tool_calls, bins=min(20, max(data.tool_calls) + 1), color="#8172b2")
        right.set_title("Tool calls per conversation")
        save(fig, "conversations.png", "Turns and tool calls per conversation")
    if data.tool_usage:
        top_tools = data.tool_usage.most_common(15)
        fig = Figure(figsize=(8, 0.5 + 0.35 * len(top_tools)))
        ax = fig.add_subplot()
        ax.barh([n for n, _ in top_tools][::-1], [c for _, c in top_tools][::-1])
        ax.set_title("Tool usage in conversations")
        save(fig, "tools.png", "Tool usage")
    curves = {phase: report.mean for phase, report in data.passk.items() if report.mean}
    if curves:
        fig = Figure(figsize=(6, 3.5))
        ax = fig.add_subplot()
        for phase, mean in curves.items():
            ax.plot(list(mean), list(mean.values()), marker="o", label=phase)
        ax.set_xlabel("k")
        ax.set_ylabel("pass^k")
        ax.set_ylim(0, 1.05)
        ax.legend()
        ax.set_title("pass^k (mean over blueprints)")
        save(fig, "passk.png", "pass^k curve")
    if data.tokens:
        phases = list(data.tokens)
        fig = Figure(figsize=(8, 3))
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        left.bar(phases, [data.tokens[p][0] + data.tokens[p][1] for p in phases])
        left.set_title("Tokens per phase")
        right.bar(phases, [data.tokens[p][2] for p in phases], color="#dd8452")
        right.set_title("Cost per phase (USD)")
        for ax in (left, right):
            ax.tick_params(axis="x", labelrotation=30)
        save(fig, "tokens.png", "Tokens and cost per phase")
    if data.durations:
        fig = Figure(figsize=(8, 3))
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        left.boxplot(list(data.durations.values()), tick_labels=list(data.durations))
        left.set_title("Episode wall time (s)")
        right.bar(list(data.throughput), list(data.throughput.values()), color="#64b5cd")
        right.set_title("Throughput (episodes/s)")
        for ax in (left, right):
            ax.tick_params(axis="x", labelrotation=30)
        save(fig, "time.png", "Wall time and throughput")
    return made


def _table(rows: list[list[Any]], header: list[str]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join(
        "<tr>" + "".join(f"<td>{html.escape(str(cell))}</td>" for cell in row) + "</tr>"
        for row in rows
    )
    return f"<table><tr>{head}</tr>{body}</table>"


def render_html(data: ReportData, plots: list[tuple[str, str]]) -> str:
    meta = data.metadata
    label = "SIMULATED models" if meta["simulated"] else "real models"
    counts = [
        [phase, *(counts.get(s, 0) for s in ("accepted", "rejected", "failed"))]
        for phase, counts in data.counts.items()
    ]
    passk_rows = [
        [phase, report.blueprints, ", ".join(f"k={k}: {v:.3f}" for k, v in report.mean.items())]
        for phase, report in data.passk.items()
    ]
    figures = "".join(
        f'<figure><img src="{name}" alt="{html.escape(caption)}">'
        f"<figcaption>{html.escape(caption)}</figcaption></figure>"
        for name, caption in plots
    )
    passk_table = (
        "<h2>pass^k</h2>" + _table(passk_rows, ["phase", "blueprints", "mean pass^k"])
        if passk_rows
        else ""
    )
    return f"""<!doctype html>
<html><head><meta charset="utf-8"><title>apigen-mt report: {html.escape(data.title)}</title>
<style>body{{font-family:sans-serif;max-width:960px;margin:2em auto;color:#222}}
table{{border-collapse:collapse;margin:1em 0}}td,th{{border:1px solid #ccc;padding:4px 8px}}
figure{{margin:1.5em 0}}img{{max-width:100%}}.sim{{color:#b00}}</style></head>
<body><h1>Run report: {html.escape(data.title)}</h1>
<p>run <code>{html.escape(meta["run_id"])}</code> · seed {meta["seed"]} ·
<span class="sim">{label}</span> · {html.escape(meta["generator"])}</p>
<h2>Items</h2>{_table(counts, ["phase", "accepted", "rejected", "failed"])}
{passk_table}
<h2>Plots</h2>{figures}
</body></html>
"""


class ReportExporter:
    """`report`: a directory with report.html and its PNG plots."""

    description = "HTML report with PNG plots (funnel, reasons, turns, tools, pass^k, cost, time)"
    suffix = ""

    async def write(self, source: ExportSource, out: Path, *, include_rejected: bool) -> int:
        data = await gather(source)

        def draw() -> int:
            out.mkdir(parents=True, exist_ok=True)
            plots = _plots(data, out)
            (out / "report.html").write_text(render_html(data, plots), encoding="utf-8")
            return len(plots)

        return await anyio.to_thread.run_sync(draw)
