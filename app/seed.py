"""`flask seed demo` (a fictional company to explore) and `flask demo` (set up and run everything)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import time

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from werkzeug.serving import run_simple

from app.audit.recorder import acting_as
from app.auth import services as auth
from app.auth.roles import Role
from app.calendar import services as calendar
from app.drtests.demo import seed_demo_drtests
from app.incidents.demo import seed_demo_incidents
from app.oncall.demo import seed_demo_oncall
from app.oncall.policies import seed_demo_fallback, seed_demo_policy
from app.readiness.demo import seed_demo_readiness
from app.risks.demo import seed_demo_risks
from app.runbooks.demo import seed_demo_runbooks
from app.vendors.demo import link_demo_vendor_supports, seed_demo_vendors
from app.watchlist.demo import seed_demo_watchlist

seed_cli = AppGroup("seed", help="Fill the database with demo data.")

DEMO_PASSWORD = "quarterdeck-demo"
DEMO_REGIONS = [
    # name, zone, business hours, holiday country, subdivision
    ("APAC", "Asia/Manila", time(9), time(18), "PH", None),
    ("EMEA", "Europe/London", time(8), time(17), "GB", "ENG"),
    ("AMER", "America/Los_Angeles", time(7), time(17), "US", None),
]
DEMO_USERS = [
    # email, name, role, region
    ("admin@acme.example", "Avery Admin", Role.ADMIN, "AMER"),
    ("crisis@acme.example", "Casey Crisis", Role.CRISIS_TEAM, "EMEA"),
    ("oncall@acme.example", "Rowan Responder", Role.RESPONDER, "APAC"),
    ("exec@acme.example", "Emery Executive", Role.EXECUTIVE, "AMER"),
]


def seed_demo() -> list[tuple[str, str, str]]:
    """Create the demo regions, one user per role, the on-call rotations, schedule and policy when missing.

    Returns the logins. Safe to run twice.
    """
    regions = {region.name: region for region in calendar.list_regions()}
    for name, zone, start, end, country, subdivision in DEMO_REGIONS:
        if name not in regions:
            regions[name] = calendar.create_region(name=name, time_zone=zone, business_start=start,
                                                   business_end=end, holiday_country=country,
                                                   holiday_subdivision=subdivision)
    logins = []
    for email, name, role, region_name in DEMO_USERS:
        region = regions[region_name]
        if auth.find_user_by_email(email) is None:
            auth.create_user(email=email, name=name, role=role, password=DEMO_PASSWORD,
                             time_zone=region.time_zone, region_id=region.id)
        logins.append((role.value, email, DEMO_PASSWORD))
    seed_demo_oncall()
    seed_demo_policy()
    seed_demo_fallback()
    seed_demo_vendors()
    seed_demo_watchlist()
    link_demo_vendor_supports()  # vendors come first; the apps they support exist only now
    seed_demo_drtests()
    seed_demo_risks()
    seed_demo_incidents()  # its review hands a lesson to readiness and a follow-up risk to the register
    seed_demo_runbooks()  # after the users, jobs, rotations and vendors its front matter names
    seed_demo_readiness()  # last: its score and snapshots read every other domain
    return logins


def print_logins(logins: list[tuple[str, str, str]]) -> None:
    click.echo("Demo logins (every demo user has the same password):")
    for role, email, password in logins:
        click.echo(f"  {role:<12} {email:<24} {password}")


@seed_cli.command("demo")
@with_appcontext
def seed_demo_command() -> None:
    """Fill a fictional company: regions, one user per role, on-call schedule and policy (idempotent)."""
    with acting_as("seed"):
        logins = seed_demo()
    print_logins(logins)


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@with_appcontext
def demo_command(host: str, port: int) -> None:
    """Migrate the database, load demo data, then run the web app and the scheduler together."""
    from flask_migrate import upgrade

    upgrade()
    with acting_as("seed"):
        logins = seed_demo()
    click.echo(f"\nQuarterdeck is starting on http://{host}:{port}  (alerts go to the console)")
    print_logins(logins)
    # The scheduler is always its own process, even on a laptop: the web server never runs jobs.
    # The demo's jobs keep pinging (one keeps failing), or within an hour it would page about every job.
    scheduler = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "scheduler", "run"],
                                 env={**os.environ, "DEMO_SIMULATED_PINGS": "1"}, preexec_fn=_die_with_parent)
    # SIGTERM (systemd, docker, `kill`) ends the web server the way Ctrl+C does, so the scheduler is stopped too.
    signal.signal(signal.SIGTERM, _stop_serving)
    try:
        # Werkzeug's server directly: Flask ignores app.run() inside a `flask` command.
        run_simple(host, port, current_app._get_current_object(), threaded=True, use_reloader=False)
    except KeyboardInterrupt:
        pass
    finally:
        _stop_child(scheduler)
    click.echo("Quarterdeck stopped.")


def _stop_serving(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _stop_child(child: subprocess.Popen, grace: float = 8.0) -> None:
    """Ask the child to stop (it finishes its sends in flight), then insist."""
    if child.poll() is None:
        child.send_signal(signal.SIGTERM)
    try:
        child.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        child.kill()
        child.wait()


def _die_with_parent() -> None:
    """In the child, before it runs: if the demo process dies without cleaning up (kill -9), the kernel sends
    the child SIGTERM, so no scheduler is left running alone (Linux; elsewhere nothing happens)."""
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass
