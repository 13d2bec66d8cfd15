"""Runbooks: Markdown SOPs in RUNBOOKS_DIR, indexed, read, run, reviewed and acknowledged."""
