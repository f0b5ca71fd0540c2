"""Registers the agents package's extensions with the runtime (entry point `agents`).

Run hooks (the model gateway; domains, roles and templates), the phase 1 and phase 2 step
kinds, the export formats, and the load-time and preflight checks.
"""

from __future__ import annotations

from agents.blueprint_steps import register_blueprint_steps
from agents.ending_summary import ending_summary
from agents.exports import register_exporters
from agents.final_review import FinalReviewStep
from agents.gateway import gateway_run_hook
from agents.passk import passk_summary
from agents.playbook_checks import check_playbook
from agents.preflight import preflight
from agents.recombine import RecombineStep
from agents.resources import agent_resources_hook
from agents.trajectory_steps import register_trajectory_steps
from runtime.plugins import Extensions


def register(extensions: Extensions) -> None:
    """Add every agent-side extension to `extensions`."""
    extensions.run_hooks.append(gateway_run_hook)
    extensions.run_hooks.append(agent_resources_hook)
    register_blueprint_steps(extensions.steps)
    extensions.steps.register("recombine", RecombineStep)
    extensions.steps.register("final_review", FinalReviewStep)
    register_trajectory_steps(extensions)
    register_exporters(extensions.exporters)
    extensions.summaries.append(passk_summary)
    extensions.summaries.append(ending_summary)
    extensions.preflight.append(preflight)
    extensions.checks.append(check_playbook)
