"""One module per readiness track; each reads its domain through that domain's models and services, read-only."""
