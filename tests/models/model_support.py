"""Shared constants for the model-layer tests."""

RUN_ID = "models-test"
