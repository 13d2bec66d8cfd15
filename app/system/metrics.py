"""GET /metrics for Prometheus: what every process counted, plus what the database says at scrape time.

Open to the networks in METRICS_ALLOWED_NETWORKS (default: this host only) or to a request carrying
`Authorization: Bearer <METRICS_TOKEN>`; everyone else gets 403. Behind a reverse proxy the client address is
the proxy's unless TRUSTED_PROXY_HOPS is set.
"""
from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (REGISTRY, CollectorRegistry, disable_created_metrics, generate_latest, multiprocess,
                               start_http_server)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from app.access import public
from app.alerting import services as alerting
from app.alerting.health import paging_health
from app.metrics import HTTP_REQUEST_SECONDS
from app.readiness.snapshots import latest_score
from app.watchlist import services as watchlist

bp = Blueprint("metrics", __name__)


class DatabaseCollector:
    """Gauges read from the database when scraped, in the scraping process only (so never summed twice)."""

    def collect(self):
        alerts = GaugeMetricFamily("quarterdeck_alerts", "Alerts by state", labels=["state"])
        for state, count in alerting.alert_counts_by_state().items():
            alerts.add_metric([state], count)
        yield alerts
        due, oldest = alerting.outbox_backlog()
        yield GaugeMetricFamily("quarterdeck_outbox_due", "Messages due now and not yet sent", value=due)
        yield GaugeMetricFamily("quarterdeck_outbox_oldest_due_seconds",
                                "How long the oldest due message has waited (0 when none)", value=oldest or 0.0)
        health = paging_health()
        lag = health.engine_age_seconds if health.engine_age_seconds is not None else float("inf")
        yield GaugeMetricFamily("quarterdeck_engine_lag_seconds", "Seconds since the paging engine's last pass",
                                value=lag)
        yield GaugeMetricFamily("quarterdeck_alerts_unpaged", "Triggered alerts that have paged nobody",
                                value=len(health.unpaged_alerts))
        jobs = GaugeMetricFamily("quarterdeck_jobs", "Watched jobs by state", labels=["state"])
        for state, count in watchlist.job_counts_by_state().items():
            jobs.add_metric([state], count)
        yield jobs
        score = latest_score()
        if score is not None:
            yield GaugeMetricFamily("quarterdeck_readiness_score", "The quarter-close readiness score (0-100) of "
                                    "the newest daily snapshot", value=score)


def _allowed() -> bool:
    token = current_app.config["METRICS_TOKEN"]
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(network) for network in current_app.config["METRICS_ALLOWED_NETWORKS"])


@bp.route("/metrics")
@public  # not a person's page: the network or the metrics token decides, below
def metrics():
    if not _allowed():
        abort(403)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counted = CollectorRegistry()
        multiprocess.MultiProcessCollector(counted)
    else:
        counted = REGISTRY
    database = CollectorRegistry(auto_describe=False)
    database.register(DatabaseCollector())
    return Response(generate_latest(counted) + generate_latest(database), mimetype=CONTENT_TYPE_LATEST)


def _start_timer() -> None:
    g.metrics_started = time.perf_counter()


def _observe(response):
    started = g.pop("metrics_started", None)
    if started is not None and request.endpoint != "metrics.metrics":
        HTTP_REQUEST_SECONDS.labels(request.endpoint or "unknown").observe(time.perf_counter() - started)
    return response


def serve_process_metrics(app: Flask) -> None:
    """For the scheduler: expose its own counts on SCHEDULER_METRICS_PORT, unless every process writes them to
    one PROMETHEUS_MULTIPROC_DIR that the web's /metrics sums (the same host)."""
    port = int(app.config["SCHEDULER_METRICS_PORT"])
    if port and not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        start_http_server(port, addr=app.config["SCHEDULER_METRICS_ADDRESS"])


def init_app(app: Flask) -> None:
    disable_created_metrics()  # the *_created series only double what Prometheus already knows
    app.register_blueprint(bp)
    app.before_request(_start_timer)
    app.after_request(_observe)
