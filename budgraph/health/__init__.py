"""Liveness and readiness: is this process up, and can the registry do its work (database, Redis,
workers, queue)."""
