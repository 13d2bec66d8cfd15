"""gunicorn settings for a Quarterdeck app node: `gunicorn -c deploy/gunicorn.conf.py wsgi:app`.

Every value can be overridden from the environment (GUNICORN_CMD_ARGS, or the variables below). The scheduler
is never started here: it is its own process (`flask scheduler run`, see quarterdeck-scheduler.service).
"""
import os

bind = os.environ.get("QD_BIND", "127.0.0.1:8000")  # the reverse proxy in front talks to this
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("QD_THREADS", "4"))
worker_class = "gthread"  # a slow client or a slow page does not hold a whole worker
timeout = 30
graceful_timeout = 20  # SIGTERM: requests in flight finish within this
keepalive = 5
control_socket_disable = True  # gunicorn 27 opens one under ~/.gunicorn/ otherwise; nothing here uses it
accesslog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms rid=%({x-request-id}o)s'
# Only the proxy on this host may set X-Forwarded-*; the app trusts TRUSTED_PROXY_HOPS of them.
forwarded_allow_ips = os.environ.get("QD_FORWARDED_ALLOW_IPS", "127.0.0.1")


def child_exit(server, worker):
    """A worker that exits leaves its Prometheus counts behind in PROMETHEUS_MULTIPROC_DIR; mark them dead so
    its gauges stop counting (its counters keep their totals, as they should)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
