"""Dataset exports (ShareGPT, APIGen-MT-5k, OpenAI chat, tau-bench tasks, HF) and the report."""

from __future__ import annotations

from agents.exports.formats import (
    APIGenMT5kExporter,
    HFExporter,
    OpenAIExporter,
    ShareGPTExporter,
)
from agents.exports.tau import TauExporter
from runtime.exports import ExporterRegistry


def register_exporters(exporters: ExporterRegistry) -> None:
    """Add the shipped formats to an exporter registry."""
    from agents.exports.report import ReportExporter

    exporters.register("sharegpt", ShareGPTExporter())
    exporters.register("apigen-mt-5k", APIGenMT5kExporter())
    exporters.register("openai", OpenAIExporter())
    exporters.register("tau", TauExporter())
    exporters.register("hf", HFExporter())
    exporters.register("report", ReportExporter())
