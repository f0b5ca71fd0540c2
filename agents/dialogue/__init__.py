"""Phase 2's work: the assistant, the human simulator, transcripts, the trajectory policy and
verification."""
