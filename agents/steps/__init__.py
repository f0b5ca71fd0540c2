"""Step kinds that are not protocols: load_task, recombine, and what they share."""
