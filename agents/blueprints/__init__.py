"""Phase 1's work: blueprints, the proposer and its context, the validators, the reviewer
committee, the final review and reflection."""
