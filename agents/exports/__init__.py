"""Dataset exports (ShareGPT, OpenAI chat, tau-bench tasks, Hugging Face) and the run report."""

from __future__ import annotations

from agents.exports.formats import HFExporter, OpenAIExporter, ShareGPTExporter, TauExporter
from runtime.exports import ExporterRegistry


def register_exporters(exporters: ExporterRegistry) -> None:
    """Add the shipped formats to an exporter registry."""
    from agents.exports.report import ReportExporter

    exporters.register("sharegpt", ShareGPTExporter())
    exporters.register("openai", OpenAIExporter())
    exporters.register("tau", TauExporter())
    exporters.register("hf", HFExporter())
    exporters.register("report", ReportExporter())
