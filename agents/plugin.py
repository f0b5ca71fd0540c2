"""Registers the agents package's extensions with the runtime (entry point `agents`).

Run hooks (the model gateway; domains, roles and templates; what role kinds build on), the
shipped role kinds and protocols, the `recombine` and `load_task` step kinds, the export
formats, and the load-time and preflight checks.
"""

from __future__ import annotations

from agents.ending_summary import ending_summary
from agents.exports import register_exporters
from agents.models.gateway import gateway_run_hook
from agents.models.preflight import preflight
from agents.passk import passk_summary
from agents.playbook_checks import check_playbook
from agents.resources import agent_resources_hook
from agents.roles import protocol_scopes_hook, register_protocols, register_role_kinds
from agents.roles.played import PLAYERS, played_user
from agents.steps.load_task import register_trajectory_steps
from agents.steps.recombine import RecombineStep
from runtime.plugins import Extensions, Player


def register(extensions: Extensions) -> None:
    """Add every agent-side extension to `extensions`."""
    extensions.run_hooks.append(gateway_run_hook)
    extensions.run_hooks.append(agent_resources_hook)
    extensions.run_hooks.append(protocol_scopes_hook)
    register_role_kinds(extensions.roles)
    register_protocols(extensions.protocols)
    for name, speak in PLAYERS.items():
        extensions.players.register(name, Player("human", "user", played_user(speak)))
    extensions.steps.register("recombine", RecombineStep)
    register_trajectory_steps(extensions)
    register_exporters(extensions.exporters)
    extensions.summaries.append(passk_summary)
    extensions.summaries.append(ending_summary)
    extensions.preflight.append(preflight)
    extensions.checks.append(check_playbook)
