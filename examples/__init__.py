"""Runnable examples: small domains and playbooks built on apigen-mt."""
