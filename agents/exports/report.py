"""The run report: report.html plus PNG plots, readable offline with no external assets.

Plots: acceptance funnel per phase (checks that run side by side drawn as one stage's
parts, counts on the bars), failed attempts by kind, turns and tool-call histograms
(integer bins), tool usage, pass^k, tokens (and cost when a price is configured) per phase,
episode wall time and throughput.
"""

from __future__ import annotations

import html
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio.to_thread

from agents.exports.collect import trajectories
from agents.passk import PassKReport, passk_from_store
from agents.roles.verifier import verifier_params
from runtime.exports import ExportSource
from runtime.failures import FailureKind
from runtime.funnel import FunnelStage
from runtime.inspection import read_phases

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

_BAR = "#4c72b0"
_PART = "#8172b2"
_MARKERS = ("o", "s", "^", "D", "v", "P")
_LINES = ("-", "--", ":", "-.")


@dataclass
class ReportData:
    """Everything the report shows, gathered from the store before any drawing."""

    title: str
    metadata: dict[str, Any]
    counts: dict[str, dict[str, int]]
    funnels: dict[str, list[FunnelStage]]
    failures: dict[str, list[FailureKind]]
    priced: bool = False
    turns: list[int] = field(default_factory=list)
    tool_calls: list[int] = field(default_factory=list)
    tool_usage: Counter[str] = field(default_factory=Counter)
    passk: dict[str, PassKReport] = field(default_factory=dict)
    tokens: dict[str, tuple[int, int, float]] = field(default_factory=dict)
    durations: dict[str, list[float]] = field(default_factory=dict)
    throughput: dict[str, float] = field(default_factory=dict)


async def gather(source: ExportSource) -> ReportData:
    store, run_id = source.store, source.run.run_id
    phases = await read_phases(store, run_id, source.playbook)
    data = ReportData(
        title=source.run.name,
        metadata=source.metadata(),
        counts=await store.status_counts(run_id),
        funnels={name: view.funnel for name, view in phases.items() if view.funnel},
        failures={name: view.failures for name, view in phases.items() if view.failures},
        priced=any(model.price is not None for model in source.playbook.models.values()),
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


def draw_plots(data: ReportData, out: Path) -> list[tuple[str, str]]:
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
        save(funnel_figure(data), "funnel.png", "Acceptance funnel per phase")
    failures = Counter(
        {f"{phase} / {k.kind}": k.count for phase, kinds in data.failures.items() for k in kinds}
    )
    if failures:
        top = failures.most_common(12)[::-1]
        fig = Figure(figsize=(8, 0.8 + 0.4 * len(top)))
        ax = fig.add_subplot()
        bars = ax.barh([name for name, _ in top], [n for _, n in top], color="#c44e52")
        ax.bar_label(bars, padding=3)
        _integer_axis(ax, "x")
        ax.margins(x=0.1)
        ax.set_title("Failed attempts by kind (phase / kind)")
        save(fig, "reasons.png", "Failed attempts by kind of reason")
    if data.turns:
        fig = Figure(figsize=(8, 3))
        left, right = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
        integer_histogram(left, data.turns, "#55a868", "Turns per conversation", "user turns")
        integer_histogram(
            right, data.tool_calls, "#8172b2", "Tool calls per conversation", "tool calls"
        )
        save(fig, "conversations.png", "Turns and tool calls per conversation")
    if data.tool_usage:
        top_tools = data.tool_usage.most_common(15)[::-1]
        fig = Figure(figsize=(8, 0.8 + 0.35 * len(top_tools)))
        ax = fig.add_subplot()
        bars = ax.barh([n for n, _ in top_tools], [c for _, c in top_tools])
        ax.bar_label(bars, padding=3)
        _integer_axis(ax, "x")
        ax.margins(x=0.1)
        ax.set_title("Tool usage in conversations")
        save(fig, "tools.png", "Tool usage")
    curves = {phase: report.mean for phase, report in data.passk.items() if report.mean}
    if curves:
        save(passk_figure(curves), "passk.png", "pass^k curve")
    if data.tokens:
        caption = "Tokens and cost per phase" if data.priced else "Tokens per phase"
        save(tokens_figure(data), "tokens.png", caption)
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


def _integer_axis(ax: Axes, which: str) -> None:
    from matplotlib.ticker import MaxNLocator

    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_locator(MaxNLocator(integer=True))


def integer_histogram(ax: Axes, values: list[int], color: str, title: str, unit: str) -> None:
    """One bar per integer value (bins centred on integers), integer ticks on both axes."""
    low, high = min(values), max(values)
    ax.hist(values, bins=[v - 0.5 for v in range(low, high + 2)], color=color, rwidth=0.9)
    _integer_axis(ax, "x")
    _integer_axis(ax, "y")
    ax.set_xlabel(unit)
    ax.set_ylabel("conversations")
    ax.set_title(title)


def funnel_figure(data: ReportData) -> Figure:
    """One panel per phase: a bar per stage, with the count on it; checks that run side by
    side on every attempt are thinner bars together in their stage's row."""
    from matplotlib.figure import Figure

    spans = {
        phase: [_row_span(stage) for stage in stages] + [1.0]
        for phase, stages in data.funnels.items()
    }
    heights = [sum(rows) for rows in spans.values()]
    fig = Figure(figsize=(8, 0.4 + sum(0.8 + 0.5 * h for h in heights)))
    grid = fig.add_gridspec(len(heights), 1, height_ratios=heights)
    for index, (phase, stages) in enumerate(data.funnels.items()):
        ax = fig.add_subplot(grid[index])
        centres = [sum(spans[phase][:row]) + span / 2 for row, span in enumerate(spans[phase])]
        for stage, centre, span in zip(stages, centres, spans[phase], strict=False):
            if not stage.grouped:
                bars = ax.barh([centre], [stage.passed], height=0.7, color=_BAR)
                ax.bar_label(bars, padding=3)
                continue
            height = (span - 0.3) / len(stage.parts)
            for i, part in enumerate(stage.parts):
                y = centre - (span - 0.3) / 2 + height * (i + 0.5)
                bars = ax.barh([y], [part.passed], height=height * 0.85, color=_PART)
                ax.bar_label(bars, labels=[f"{part.name} {part.passed}"], padding=3, fontsize=9)
        accepted = data.counts.get(phase, {}).get("accepted", 0)
        bars = ax.barh([centres[-1]], [accepted], height=0.7, color="#55a868")
        ax.bar_label(bars, padding=3)
        ax.set_yticks(centres, [stage.name for stage in stages] + ["accepted (items)"])
        ax.set_ylim(sum(spans[phase]), 0)
        ax.margins(x=0.18)
        _integer_axis(ax, "x")
        grouped = [stage.name for stage in stages if stage.grouped]
        note = f" ({', '.join(grouped)}: checks side by side)" if grouped else ""
        ax.set_title(f"{phase}: attempts passing each stage{note}", fontsize=10)
    return fig


def _row_span(stage: FunnelStage) -> float:
    """Rows a stage takes: one, or more for a group of checks drawn as thinner bars."""
    return max(1.0, 0.5 * len(stage.parts) + 0.3) if stage.grouped else 1.0


def tokens_figure(data: ReportData) -> Figure:
    """Tokens per phase, and cost per phase beside it only when a model has a price (without
    one every cost is 0, and an empty panel would look like a free run)."""
    from matplotlib.figure import Figure
    from matplotlib.ticker import StrMethodFormatter

    phases = list(data.tokens)
    fig = Figure(figsize=(8, 3))
    panels = 2 if data.priced else 1
    left = fig.add_subplot(1, panels, 1)
    left.bar(phases, [data.tokens[p][0] + data.tokens[p][1] for p in phases])
    left.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    left.set_title("Tokens per phase" + ("" if data.priced else " (no price configured)"))
    if data.priced:
        right = fig.add_subplot(1, 2, 2)
        right.bar(phases, [data.tokens[p][2] for p in phases], color="#dd8452")
        right.set_title("Cost per phase (USD)")
    for ax in fig.axes:
        ax.tick_params(axis="x", labelrotation=30)
    return fig


def passk_figure(curves: dict[str, dict[int, float]]) -> Figure:
    """One line per phase, each with its own marker and line style, nudged sideways so equal
    curves stay visible."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(6, 3.5))
    ax = fig.add_subplot()
    for i, (phase, mean) in enumerate(curves.items()):
        shift = (i - (len(curves) - 1) / 2) * 0.04
        ax.plot(
            [k + shift for k in mean],
            list(mean.values()),
            marker=_MARKERS[i % len(_MARKERS)],
            linestyle=_LINES[i % len(_LINES)],
            label=phase,
        )
    ks = sorted({k for mean in curves.values() for k in mean})
    ax.set_xticks(ks)
    ax.set_xlabel("k (trials that must all succeed)")
    ax.set_ylabel("pass^k")
    ax.set_ylim(0, 1.05)
    ax.legend()
    ax.set_title("pass^k (mean over blueprints)")
    return fig


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
            plots = draw_plots(data, out)
            (out / "report.html").write_text(render_html(data, plots), encoding="utf-8")
            return len(plots)

        return await anyio.to_thread.run_sync(draw)
