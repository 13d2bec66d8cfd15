"""Quarterdeck: crisis management and quarter-close readiness.

create_app() wires configuration, extensions, blueprints and CLI commands. It
starts nothing: no scheduler, no threads (the scheduler is its own process).
"""
from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from app.database import register_engine_listeners, render_migration_item
from app.extensions import csrf, db, limiter, login_manager, migrate
from app.url_rules import LazyBuilderRule
from config import checked_runbooks_dir, load_config

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"


def create_app(overrides: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None) -> Flask:
    """Build the app from the environment (or `env`), then apply `overrides`; raises ConfigError when malformed."""
    app = Flask(__name__, instance_relative_config=False)
    app.url_rule_class = LazyBuilderRule  # url_for's builders are compiled when first used (app/url_rules.py)
    app.config.update(load_config(env))
    if overrides:
        app.config.update(overrides)
        if "RUNBOOKS_DIR" in overrides:
            app.config["RUNBOOKS_DIR"] = checked_runbooks_dir(overrides["RUNBOOKS_DIR"])
    from app import logs
    logs.init_app(app)  # first: every later hook's log lines (and refusals) carry the request id

    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        # Behind a reverse proxy every request comes from the proxy; trust exactly that many
        # X-Forwarded-* hops so login throttling and secure cookies see the real client.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    _ensure_sqlite_folder(app.config["SQLALCHEMY_DATABASE_URI"])
    _import_models()
    register_engine_listeners()  # SQLite pragmas on every new connection
    from app.audit import recorder
    recorder.register_listeners()  # every flush writes its audit rows
    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR), render_as_batch=True, compare_type=True,
                     render_item=render_migration_item)
    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please sign in to see that page."
    # "basic": a changed address (phone moving from Wi-Fi to LTE) only marks the session non-fresh.
    login_manager.session_protection = "basic"
    csrf.init_app(app)
    app.config.setdefault("RATELIMIT_HEADERS_ENABLED", True)
    limiter.init_app(app)
    _warn_about_per_worker_limits(app)

    from app.auth.sessions import BrowserOnlySessionInterface
    app.session_interface = BrowserOnlySessionInterface()

    from app import request_guard
    request_guard.init_app(app)  # before the blueprints: their <int:...> rules use its converter
    _register_blueprints(app)
    from app.watchlist.ping_gateway import PingGateway
    app.wsgi_app = PingGateway(app, app.wsgi_app)  # the common ping is answered before Flask's request machinery
    from app import web
    from app.system import metrics
    metrics.init_app(app)  # its timer starts before the access check, so refusals are timed too
    web.init_app(app)
    from app import static_files
    static_files.init_app(app)  # stylesheets and scripts are fetched once per version
    from app import navigation
    navigation.init_app(app)  # the main menu's places, per role
    from app import field_labels
    field_labels.init_app(app)  # change histories name fields as people know them
    from app.incidents import hooks as incident_hooks
    incident_hooks.init_app(app)  # the SMS reply 12i, alert badges, the readiness track (domains below never import it)
    _register_hooks(app)
    _register_cli(app)
    from app.runbooks import linking as runbook_links
    runbook_links.init_app(app)  # runbooks on alert, job, DR template and rotation pages, and in search

    from app.access import check_every_endpoint_declares_access
    check_every_endpoint_declares_access(app)
    return app


def _warn_about_per_worker_limits(app: Flask) -> None:
    """Throttles kept in memory:// are per process: with N workers each counts alone, N times looser."""
    workers = int(app.config.get("WEB_WORKERS") or 1)
    if workers > 1 and app.config["RATELIMIT_STORAGE_URI"].startswith("memory://"):
        logging.getLogger("quarterdeck").warning(
            "RATELIMIT_STORAGE_URI is memory:// but %d web workers run: each worker counts sign-in failures, "
            "pings and SMS replies on its own, so every limit is %d times looser than configured. "
            "Set RATELIMIT_STORAGE_URI=redis://HOST:6379 (shared by every worker and node).", workers, workers)


def _ensure_sqlite_folder(url: str) -> None:
    """SQLite creates the file but not its folder (instance/ on a fresh clone)."""
    if url.startswith("sqlite:///") and url != "sqlite:///:memory:":
        Path(url.removeprefix("sqlite:///")).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _import_models() -> None:
    """Import every models module so the metadata (and Alembic) sees all tables."""
    from app.alerting import models as _alerting  # noqa: F401
    from app.audit import models as _audit  # noqa: F401
    from app.auth import models as _auth  # noqa: F401
    from app.calendar import models as _calendar  # noqa: F401
    from app.drtests import continuity_models as _continuity  # noqa: F401
    from app.drtests import models as _drtests  # noqa: F401
    from app.incidents import models as _incidents  # noqa: F401
    from app.incidents import review_models as _incident_reviews  # noqa: F401
    from app.oncall import models as _oncall  # noqa: F401
    from app.readiness import models as _readiness  # noqa: F401
    from app.reviews import models as _reviews  # noqa: F401
    from app.risks import models as _risks  # noqa: F401
    from app.runbooks import models as _runbooks  # noqa: F401
    from app.risks import escalation_models as _escalations  # noqa: F401
    from app.system import models as _system  # noqa: F401
    from app.vendors import models as _vendors  # noqa: F401
    from app.watchlist import models as _watchlist  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    # Modules that add routes to a blueprint created in their domain's views.py or in app.api are imported
    # here, so no views module imports its siblings (and no import cycle returns).
    from app.alerting import api as _alerting_api  # noqa: F401  (adds routes to api_bp)
    from app.alerting.views import bp as alerting_bp
    from app.alerting.webhooks import bp as twilio_bp
    from app.api import bp as api_bp
    from app.audit import api as _audit_api  # noqa: F401  (adds routes to api_bp)
    from app.audit.views import bp as audit_bp
    from app.auth import api as _auth_api  # noqa: F401
    from app.auth.views import bp as auth_bp
    from app.calendar import api as _calendar_api  # noqa: F401
    from app.calendar.views import bp as calendar_bp
    from app.drtests import api as _drtests_api  # noqa: F401
    from app.drtests import continuity_views as _continuity_views  # noqa: F401
    from app.drtests import exercise_views as _exercise_views  # noqa: F401
    from app.drtests import finding_views as _finding_views  # noqa: F401
    from app.drtests.views import bp as drtests_bp
    from app.incidents import api as _incidents_api  # noqa: F401  (adds routes to api_bp)
    from app.incidents.admin_views import bp as incident_admin_bp
    from app.incidents.review_views import bp as incident_reviews_bp
    from app.incidents.views import bp as incidents_bp
    from app.incidents.work_views import bp as incident_work_bp
    from app.oncall import api as _oncall_api  # noqa: F401
    from app.oncall import policy_api as _policy_api  # noqa: F401
    from app.oncall import rotation_api as _rotation_api  # noqa: F401
    from app.oncall import rotation_views as _rotation_views  # noqa: F401
    from app.oncall import schedule_api as _schedule_api  # noqa: F401
    from app.oncall.policy_views import bp as policies_bp
    from app.oncall.schedule_views import bp as schedules_bp
    from app.oncall.views import bp as oncall_bp
    from app.readiness import api as _readiness_api  # noqa: F401
    from app.readiness.track_views import bp as readiness_tracks_bp
    from app.readiness.views import bp as readiness_bp
    from app.reviews import api as _reviews_api  # noqa: F401
    from app.reviews import meeting_views as _meeting_views  # noqa: F401
    from app.reviews.views import bp as reviews_bp
    from app.risks import action_api as _action_api  # noqa: F401
    from app.risks import admin_views as _risk_admin_views  # noqa: F401
    from app.risks import api as _risks_api  # noqa: F401
    from app.risks import escalation_api as _escalation_api  # noqa: F401
    from app.risks.escalation_views import bp as escalations_bp
    from app.risks import risk_views as _risk_views  # noqa: F401
    from app.risks.views import bp as risks_bp
    from app.runbooks import api as _runbooks_api  # noqa: F401
    from app.runbooks.run_views import bp as runbook_runs_bp
    from app.runbooks.views import bp as runbooks_bp
    from app.system import api as _system_api  # noqa: F401
    from app.system.views import bp as home_bp
    from app.vendors import api as _vendors_api  # noqa: F401
    from app.vendors import campaign_views as _campaign_views  # noqa: F401
    from app.vendors import ladder_api as _ladder_api  # noqa: F401
    from app.vendors import ladder_views as _ladder_views  # noqa: F401
    from app.vendors.views import bp as vendors_bp
    from app.watchlist import api as _watchlist_api  # noqa: F401
    from app.watchlist import app_views as _app_views  # noqa: F401
    from app.watchlist.ping_views import bp as pings_bp
    from app.watchlist.views import bp as watchlist_bp

    csrf.exempt(api_bp)  # bearer tokens only; the session cookie is ignored under /api/
    for blueprint in (home_bp, auth_bp, calendar_bp, audit_bp, oncall_bp, schedules_bp, policies_bp, alerting_bp,
                      twilio_bp, vendors_bp, watchlist_bp, pings_bp, drtests_bp, risks_bp, escalations_bp, reviews_bp,
                      readiness_bp, readiness_tracks_bp, runbooks_bp, runbook_runs_bp, incidents_bp, incident_work_bp,
                      incident_reviews_bp,
                      incident_admin_bp, api_bp):
        app.register_blueprint(blueprint)


def _register_hooks(app: Flask) -> None:
    """Contributions one domain makes to another's pages (registered here, never at import time)."""
    from app.readiness import chase, live
    from app.vendors import search as vendor_search
    from app.watchlist import search as watchlist_search

    chase.init_app(app)  # every readiness track's items for "what to chase"
    live.init_app(app)  # the live readiness is kept until a write (or a minute) makes it stale
    vendor_search.register_search()  # "Who do I call?": vendors and contacts, apps and jobs
    watchlist_search.register_search()


def _register_cli(app: Flask) -> None:
    from app.auth.cli import users_cli
    from app.runbooks.cli import runbooks_cli
    from app.scheduler import scheduler_cli
    from app.seed import demo_command, seed_cli

    app.cli.add_command(users_cli)
    app.cli.add_command(runbooks_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(seed_cli)
    app.cli.add_command(demo_command)
