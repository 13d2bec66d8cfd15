"""The audit trail: who changed what, written by one flush hook (registered by create_app())."""
