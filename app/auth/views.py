"""Sign in and out, one's own account and API tokens, and the admin's user list."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user, login_user, logout_user

from app.access import allow, public
from app.auth import services, throttle
from app.auth.forms import (LoginForm, PasswordChangeForm, PasswordResetForm, ProfileForm, TokenForm,
                            UserCreateForm, UserEditForm)
from app.forms_common import form_values
from app.auth.roles import ADMINS, EVERYONE
from app.errors import DomainError
from app.extensions import limiter
from app.views_common import apply_domain_error

bp = Blueprint("auth", __name__)


def _safe_next(target: str | None) -> str:
    """Only follow a relative `next` inside this site, never to another host."""
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


THROTTLED = "Too many failed sign-in attempts. Wait a few minutes and try again."


@bp.route("/login", methods=["GET", "POST"])
@public
@limiter.limit(throttle.pair_limit, key_func=throttle.pair_key, methods=["POST"], deduct_when=throttle.failed,
               error_message=THROTTLED)
@limiter.limit(throttle.wide_limit, key_func=throttle.account_key, methods=["POST"], deduct_when=throttle.failed,
               error_message=THROTTLED)
@limiter.limit(throttle.wide_limit, key_func=throttle.address_key, methods=["POST"], deduct_when=throttle.failed,
               error_message=THROTTLED)
def login():
    if current_user.is_authenticated:
        return redirect(_safe_next(request.args.get("next")))
    form = LoginForm()
    if form.validate_on_submit():
        user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            login_user(user)
            flash(f"Signed in as {user.name}.", "success")
            return redirect(_safe_next(request.args.get("next")))
        form.password.errors.append("Wrong email or password.")
    status = 401 if request.method == "POST" else 200
    return render_template("auth/login.html", form=form), status


@bp.route("/logout", methods=["POST"])
@allow(EVERYONE)
def logout():
    # Ends every session of this user, not only this cookie: a copy of it (a shared machine, a stolen
    # cookie) must not outlive the sign-out.
    services.end_all_sessions(current_user)
    logout_user()
    flash("Signed out.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account/sign-out-everywhere", methods=["POST"])
@allow(EVERYONE)
def logout_everywhere():
    services.end_all_sessions(current_user)
    logout_user()
    flash("Signed out on every device. API tokens are not affected; revoke them on the tokens page.", "success")
    return redirect(url_for("auth.login"))


@bp.route("/account", methods=["GET", "POST"])
@allow(EVERYONE)
def account():
    form = ProfileForm(obj=current_user)
    password_form = PasswordChangeForm(prefix="pw")
    if form.validate_on_submit():
        try:
            services.update_profile(current_user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash("Profile saved.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, password_form=password_form,
                           tokens=services.list_live_tokens(current_user))


@bp.route("/account/password", methods=["POST"])
@allow(EVERYONE)
def change_password():
    form = ProfileForm(obj=current_user, formdata=None)
    password_form = PasswordChangeForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            services.change_own_password(current_user, current_password=password_form.current_password.data,
                                         new_password=password_form.new_password.data)
        except DomainError as error:
            apply_domain_error(password_form, error)
        else:
            # The change signed out every session of this user; keep this one signed in.
            login_user(current_user._get_current_object())
            flash("Password changed. Your other sessions are signed out.", "success")
            return redirect(url_for("auth.account"))
    return render_template("auth/account.html", form=form, password_form=password_form,
                           tokens=services.list_live_tokens(current_user)), 422


@bp.route("/account/tokens", methods=["GET", "POST"])
@allow(EVERYONE)
def tokens():
    form = TokenForm()
    new_secret = None
    if form.validate_on_submit():
        try:
            _token, new_secret = services.create_token(current_user, name=form.name.data)
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            form = TokenForm(formdata=None)
    return render_template("auth/tokens.html", form=form, tokens=services.list_tokens(current_user),
                           new_secret=new_secret)


@bp.route("/account/tokens/<int:token_id>/revoke", methods=["POST"])
@allow(EVERYONE)
def revoke_token(token_id: int):
    token = services.revoke_token(current_user, token_id)
    flash(f"Token '{token.name}' revoked.", "success")
    return redirect(url_for("auth.tokens"))


@bp.route("/admin/users")
@allow(ADMINS)
def users():
    return render_template("auth/users.html", users=services.list_users())


@bp.route("/admin/users/new", methods=["GET", "POST"])
@allow(ADMINS)
def new_user():
    form = UserCreateForm()
    if form.validate_on_submit():
        try:
            user = services.create_user(**form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"User {user.email} created.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=None)


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(ADMINS)
def edit_user(user_id: int):
    user = services.get_user(user_id)
    form = UserEditForm(obj=user)
    reset_form = PasswordResetForm(prefix="reset")
    if form.validate_on_submit():
        try:
            services.update_user(user, **form_values(form))
        except DomainError as error:
            apply_domain_error(form, error)
        else:
            flash(f"User {user.email} saved.", "success")
            return redirect(url_for("auth.users"))
    return render_template("auth/user_form.html", form=form, user=user, reset_form=reset_form)


@bp.route("/admin/users/<int:user_id>/password", methods=["POST"])
@allow(ADMINS)
def reset_password(user_id: int):
    user = services.get_user(user_id)
    reset_form = PasswordResetForm(prefix="reset")
    if reset_form.validate_on_submit():
        try:
            services.set_password(user, reset_form.password.data)
        except DomainError as error:
            apply_domain_error(reset_form, error)
        else:
            flash(f"Password for {user.email} reset.", "success")
            return redirect(url_for("auth.edit_user", user_id=user.id))
    form = UserEditForm(obj=user, formdata=None)
    return render_template("auth/user_form.html", form=form, user=user, reset_form=reset_form), 422
