"""Shipped personas for simulated users; a playbook may supply its own list."""

from __future__ import annotations

DEFAULT_PERSONAS: tuple[str, ...] = (
    "a busy parent who writes short, direct messages",
    "a retired teacher who is polite and explains things at length",
    "a software engineer who is precise and likes to double-check numbers",
    "a student on a tight budget who cares about every dollar",
    "a small-business owner who is in a hurry and slightly impatient",
    "a first-time customer who is unsure how things work and asks for confirmation",
    "a frequent traveller who knows the rules and expects efficiency",
    "a non-native English speaker who uses simple sentences",
    "a cautious person who wants every detail confirmed before agreeing",
    "a cheerful person who chats a little before getting to the point",
    "a frustrated customer whose previous attempt went wrong",
    "a methodical planner who lists what they want step by step",
)
