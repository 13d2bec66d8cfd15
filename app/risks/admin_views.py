"""Register settings (grid, cadence, review slot: administrators) and CSV export and import (a dry run first)."""
from __future__ import annotations


from flask import Response, flash, redirect, render_template, request, stream_with_context, url_for

from app.access import allow
from app.auth.roles import ADMINS, EDITORS, EVERYONE
from app.errors import DomainError
from app.forms_common import form_values
from app.risks import register_csv
from app.risks.register_csv import import_csv
from app.risks.forms import ImportForm, SettingsForm
from app.risks.scoring import IMPACT_WORDS, LIKELIHOOD_WORDS, current_settings, grid_rows_for_display
from app.risks.settings import save_settings, settings_values
from app.risks.views import bp
from app.views_common import apply_domain_error, carry_csv_text, csv_import_text


@bp.route("/risks/settings", methods=["GET", "POST"])
@allow(ADMINS)
def settings_page():
    settings = current_settings()
    form = SettingsForm() if request.method == "POST" else SettingsForm(data=settings_values(settings))
    if form.validate_on_submit():
        try:
            _saved, changed = save_settings(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"Risk settings saved; {changed} risk{'' if changed == 1 else 's'} changed level.", "success")
            return redirect(url_for("risks.settings_page"))
    return render_template("risks/settings.html", form=form, grid=grid_rows_for_display(settings.grid),
                           likelihood_words=LIKELIHOOD_WORDS, impact_words=IMPACT_WORDS), 422 if form.errors else 200


@bp.route("/risks/export.csv")
@allow(EVERYONE)
def export_csv():
    return Response(stream_with_context(register_csv.export_chunks()), mimetype="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="quarterdeck-risks.csv"'})


@bp.route("/risks/import", methods=["GET", "POST"])
@allow(EDITORS)
def import_page():
    form = ImportForm()
    report = None
    if form.validate_on_submit():
        try:
            text, applying = csv_import_text(form, register_csv.decode_upload)
            report = import_csv(text=text, apply=applying)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            if report.applied:
                flash(f"Imported: {report.count('create')} created, {report.count('update')} updated, "
                      f"{report.count('unchanged')} unchanged.", "success")
                return redirect(url_for("risks.register_page"))
            carry_csv_text(form, text)  # checked again when applied
    status = 422 if form.errors or (report and report.error_count) else 200
    return render_template("risks/import.html", form=form, report=report), status
