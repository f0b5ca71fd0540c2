"""apigen-mt domains: tool-use environments with verifiable state."""
