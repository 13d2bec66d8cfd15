"""Incidents: declare, run and learn from a crisis (commander, severity, timeline, updates, review, figures).

`hooks.init_app(app)`, called by create_app(), wires the incident into the domains below it without their
importing it: the SMS reply `12i`, "part of INC-5" on alerts, the readiness track and executive section.
"""
