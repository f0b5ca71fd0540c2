"""apigen-mt agents: proposer, reviewers, human simulator, assistant and model clients."""
