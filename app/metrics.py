"""The counters and timers Quarterdeck keeps for Prometheus, counted where things happen.

With PROMETHEUS_MULTIPROC_DIR set (it must be set before the process starts: gunicorn's environment, the
scheduler's unit), every gunicorn worker and the scheduler write their counts to files in that folder and a
scrape of /metrics sums them; without it each process counts in memory (a laptop, the tests). What is read
from the database at scrape time (alerts by state, the outbox, jobs by state, readiness) is in
app/system/metrics.py, next to the endpoint.
"""
from __future__ import annotations

from prometheus_client import Counter, Histogram

HTTP_REQUEST_SECONDS = Histogram(
    "quarterdeck_http_request_seconds", "Time to answer a web or API request, by endpoint", ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0))
JOB_PINGS = Counter("quarterdeck_job_pings", "Pings received from watched jobs (start, success, failure, log)",
                    ["signal"])
MESSAGES = Counter("quarterdeck_messages", "Messages the paging engine handed to a channel, by outcome",
                   ["channel", "outcome"])
ENGINE_TICK_SECONDS = Histogram(
    "quarterdeck_engine_tick_seconds", "Time one paging engine pass took (escalations, leases, the outbox)",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0))
