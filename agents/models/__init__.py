"""How model calls are made: the gateway (cache, limits, retries, sample seeds), the HTTP
transport and clients, structured outputs, and the checks before a run."""
