"""apigen-mt runtime: actors, store, playbooks, engine and CLI.

The embedding API: `load_playbook` validates a playbook file, `run_playbook` runs (or
continues) it inside your own event loop and returns a `RunSummary`.
"""

from runtime.api import LoadedPlaybook, export_stored_run, load_playbook, run_playbook
from runtime.engine import RunSummary

__all__ = ["LoadedPlaybook", "RunSummary", "export_stored_run", "load_playbook", "run_playbook"]
