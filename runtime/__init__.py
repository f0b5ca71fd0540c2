"""apigen-mt runtime: actors, store, playbooks, engine and CLI."""
