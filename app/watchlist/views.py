"""Pages of the watch list: the list, a job with its timeline and runs, job forms, top jobs, CSV import/export.

App pages add their routes to the same blueprint (app/watchlist/app_views.py, imported by create_app()).
"""
from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user

from app.access import allow
from app.auth.roles import EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.providers import provided
from app.timeutil import utcnow
from app.views_common import apply_domain_error, keyset_args
from app.watchlist import history, job_csv, reliability, services, windows
from app.watchlist.forms import ImportForm, JobForm, WindowForm
from app.watchlist.models import STATES, Job

bp = Blueprint("watchlist", __name__)

TIMELINE_DAYS = 14
CHARTS = ("runs", "days")  # the duration chart: the last runs one by one, or by day over two years


def _int_arg(name: str) -> int | None:
    return request.args.get(name, type=int)


@bp.route("/watchlist")
@allow(EVERYONE)
def index():
    after, before, per_page = keyset_args()
    # Several states at once ("down" and "late": what needs someone now); unknown ones are ignored.
    filters = {"app_id": _int_arg("app_id"), "owner_id": _int_arg("owner_id"),
               "states": [state for state in STATES if state in request.args.getlist("state")]}
    listing = services.jobs_page(**filters, after=after, before=before, per_page=per_page)
    jobs = listing.items
    now = utcnow()
    last_runs = history.last_runs(jobs)
    pager_args = {key: value for key, value in request.args.to_dict(flat=False).items()
                  if key not in ("after", "before")}
    return render_template("watchlist/index.html", jobs=jobs, listing=listing, pager_args=pager_args,
                           filters=filters, apps=services.list_apps(), owners=services.job_owners(), states=STATES,
                           next_expected={job.id: services.next_expected(job, now) for job in jobs},
                           last_run={job_id: (run.outcome, history.describe_run(run, now))
                                     for job_id, run in last_runs.items()},
                           args={k: v for k, v in filters.items() if v})


@bp.route("/watchlist/top")
@allow(EVERYONE)
def top():
    sort = request.args.get("sort") if request.args.get("sort") in reliability.SORTS else "p95"
    period = request.args.get("period")
    period = period if period in reliability.PERIODS else reliability.DEFAULT_PERIOD  # unknown: the default
    return render_template("watchlist/top.html", ranks=reliability.top_jobs(period=period, sort=sort), sort=sort,
                           period=period, periods=reliability.PERIODS)


@bp.route("/watchlist/jobs/new", methods=["GET", "POST"])
@allow(EDITORS)
def new_job():
    form = JobForm() if request.method == "POST" else JobForm(app_id=_int_arg("app_id"))
    if form.validate_on_submit():
        try:
            job = services.save_job(None, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Job {job.name} created. Point it at its ping URL below.", "success")
            return redirect(url_for("watchlist.job", job_id=job.id))
    return render_template("watchlist/job_form.html", form=form, job=None), 422 if form.errors else 200


def _job_page(job: Job, window_form: WindowForm, status: int = 200):
    now = utcnow()
    after, before, per_page = keyset_args()
    per_page = min(per_page, 50)
    runs = history.runs_page(job, after=after, before=before, per_page=per_page)
    pager_args = {"job_id": job.id, **({"per_page": per_page} if "per_page" in request.args else {})}
    since = now - timedelta(days=TIMELINE_DAYS)
    base = current_app.config["PUBLIC_BASE_URL"]
    due = services.next_expected(job, now)
    chart = request.args.get("chart") if request.args.get("chart") in CHARTS else "runs"
    return render_template(
        "watchlist/job.html", job=job, now=now, related=provided("job_links", job), runs=runs, pager_args=pager_args,
        timeline=_timeline(job, since, now),
        windows=[(w, windows.describe(w)) for w in job.windows], window_form=window_form,
        chart=chart, trend=history.duration_trend(job) if chart == "runs" else None,
        daily=history.daily_duration_trend(job, now=now) if chart == "days" else None,
        uptime=history.weekly_uptime(job, now=now), due=due,
        ping_url=f"{base}/ping/{job.ping_key}", badge_url=f"{base}/badge/{job.badge_key}.svg"), status


def _timeline(job: Job, since, now) -> list[dict]:
    """The job's recorded changes and its maintenance windows (past and coming two weeks), newest first."""
    items = [{"at": e.at, "kind": e.kind, "text": e.text, "detail": e.detail, "until": None}
             for e in history.timeline(job, since=since)]
    items += [{"at": opens, "kind": "maintenance", "text": f"Maintenance window: {label}", "detail": "",
               "until": closes} for opens, closes, label in
              windows.windows_between(job, since, now + timedelta(days=TIMELINE_DAYS))]
    return sorted(items, key=lambda item: item["at"], reverse=True)


@bp.route("/watchlist/jobs/<int:job_id>")
@allow(EVERYONE)
def job(job_id: int):
    return _job_page(services.get_job(job_id), WindowForm(formdata=None))


@bp.route("/watchlist/jobs/<int:job_id>/edit", methods=["GET", "POST"])
@allow(EDITORS)
def edit_job(job_id: int):
    job = services.get_job(job_id)
    form = JobForm() if request.method == "POST" else JobForm(data=services.job_values(job))
    if form.validate_on_submit():
        try:
            services.save_job(job, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Job {job.name} saved.", "success")
            return redirect(url_for("watchlist.job", job_id=job.id))
    return render_template("watchlist/job_form.html", form=form, job=job), 422 if form.errors else 200


@bp.route("/watchlist/jobs/<int:job_id>/pause", methods=["POST"])
@allow(EDITORS)
def pause_job(job_id: int):
    job = services.pause_job(services.get_job(job_id), actor=current_user)
    flash(f"{job.name} is paused: it is not watched and does not page until resumed.", "success")
    return redirect(url_for("watchlist.job", job_id=job_id))


@bp.route("/watchlist/jobs/<int:job_id>/resume", methods=["POST"])
@allow(EDITORS)
def resume_job(job_id: int):
    job = services.resume_job(services.get_job(job_id), actor=current_user)
    flash(f"{job.name} is watched again.", "success")
    return redirect(url_for("watchlist.job", job_id=job_id))


@bp.route("/watchlist/jobs/<int:job_id>/new-ping-url", methods=["POST"])
@allow(EDITORS)
def new_ping_url(job_id: int):
    services.new_ping_key(services.get_job(job_id))
    flash("New ping URL made; update the job's crontab or wrapper — the old URL now answers 404.", "success")
    return redirect(url_for("watchlist.job", job_id=job_id))


@bp.route("/watchlist/jobs/<int:job_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_job(job_id: int):
    job = services.get_job(job_id)
    name = job.name
    services.delete_job(job)
    flash(f"Job {name} deleted with its history.", "success")
    return redirect(url_for("watchlist.index"))


@bp.route("/watchlist/jobs/<int:job_id>/windows", methods=["POST"])
@allow(EDITORS)
def add_window(job_id: int):
    job = services.get_job(job_id)
    form = WindowForm()
    if form.validate_on_submit():
        try:
            windows.add_window(job, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Maintenance window added.", "success")
            return redirect(url_for("watchlist.job", job_id=job.id))
    return _job_page(job, form, 422)


@bp.route("/watchlist/jobs/<int:job_id>/windows/<int:window_id>/delete", methods=["POST"])
@allow(EDITORS)
def delete_window(job_id: int, window_id: int):
    job = services.get_job(job_id)
    windows.delete_window(job, windows.get_window(job, window_id))
    flash("Maintenance window removed.", "success")
    return redirect(url_for("watchlist.job", job_id=job.id))


@bp.route("/watchlist/export.csv")
@allow(EVERYONE)
def export_csv():
    return Response(job_csv.export_jobs(), mimetype="text/csv",
                    headers={"Content-Disposition": "attachment; filename=watchlist-jobs.csv"})


@bp.route("/watchlist/import", methods=["GET", "POST"])
@allow(EDITORS)
def import_csv():
    form = ImportForm()
    report, status = None, 200
    if form.validate_on_submit():
        try:
            report = job_csv.import_jobs(form.csv_text.data, confirm=bool(form.confirm.data))
        except DomainError as error:
            form.csv_text.errors = [error.message]
            status = 422
        else:
            if report.applied:
                counts = report.counts()
                flash(f"Imported: {counts['create']} created, {counts['update']} updated, "
                      f"{counts['unchanged']} unchanged.", "success")
                return redirect(url_for("watchlist.index"))
            status = 422 if report.error_count else 200
    elif request.method == "POST":
        status = 422
    form.confirm.data = False  # every confirmation follows a fresh dry run of the same text
    return render_template("watchlist/import.html", form=form, report=report), status
