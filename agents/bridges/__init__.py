"""autogen-agentchat and our roles, both ways."""
