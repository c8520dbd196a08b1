import base64
from urllib.parse import urlsplit

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from ..extensions import db
from . import services
from .forms import (ChangePasswordForm, CsvImportForm, LoginForm, ResetPasswordForm, UnlockForm, UserCreateForm,
                    UserEditForm)
from .models import User
from ..core.access import AUTHENTICATED, PUBLIC, Role, allow

bp = Blueprint("accounts", __name__, template_folder="templates")

USER_ADMINS = (Role.ADMIN, Role.HR)


def _safe_next(target: str | None) -> str | None:
    # Only same-site paths: an open redirect after login is a phishing aid.
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/login", methods=["GET", "POST"])
@allow(PUBLIC)
def login():
    if current_user.is_authenticated:
        return redirect(url_for("core.home"))
    form = LoginForm()
    if form.validate_on_submit():
        result = services.authenticate(form.username.data, form.password.data, request.remote_addr)
        if result.user is None:
            flash(result.error, "error")
        else:
            language = session.get("lang")
            session.clear()  # rotate: nothing from the anonymous session survives login
            if language and not result.user.language:
                result.user.language = language
                db.session.commit()
            if result.user.language:
                session["lang"] = result.user.language  # the saved preference follows the user
            login_user(result.user)
            session.permanent = True
            return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("accounts/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@allow(AUTHENTICATED)
def logout():
    language = session.get("lang")
    services.logout(current_user)  # a copy of this session's cookie must not outlive the logout
    logout_user()
    session.clear()
    if language:
        session["lang"] = language  # the login page keeps speaking the user's language
    flash(_("You have been logged out."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@allow(AUTHENTICATED)
def change_password():
    form = ChangePasswordForm()
    if form.validate_on_submit():
        if not current_user.check_password(form.current_password.data):
            form.current_password.errors.append(_("The current password is wrong."))
        else:
            try:
                services.change_password(current_user, form.new_password.data)
            except services.AccountError as exc:
                form.new_password.errors.append(str(exc))
            else:
                login_user(current_user._get_current_object())  # re-issue this session with the new version
                flash(_("Your password has been changed."), "success")
                return redirect(_safe_next(request.args.get("next")) or url_for("core.home"))
    return render_template("accounts/change_password.html", form=form, forced=current_user.must_change_password)


@bp.app_template_filter("role_names")
def role_names(roles) -> list[str]:
    """Roles (codes) as their names, in the order of the Role enum: {{ user.role_set|role_names|join(...) }}."""
    from .forms import ROLE_NAMES
    held = {str(role) for role in roles}
    return [str(name) for role, name in ROLE_NAMES.items() if role.value in held]


@bp.route("/account")
@allow(AUTHENTICATED)
def profile():
    from ..core.i18n import LANGUAGES
    from .forms import ROLE_LABELS
    roles = [str(label) for role, label in ROLE_LABELS.items() if role in current_user.role_set]
    return render_template("accounts/profile.html", user=current_user, roles=roles, languages=LANGUAGES,
                           language=LANGUAGES.get(current_user.language or ""))


@bp.route("/admin/users")
@allow(*USER_ADMINS)
def user_list():
    query = request.args.get("q", "").strip()
    stmt = select(User).order_by(User.username)
    if query:
        like = f"%{query}%"
        stmt = stmt.where(User.username.ilike(like) | User.name.ilike(like) | User.cohort.ilike(like))
    users = db.session.scalars(stmt).all()
    return render_template("accounts/user_list.html", users=users, query=query)


def _show_grantable_roles(form) -> None:
    # Validation accepts every role so that the service, not the form, decides and says why;
    # the page then offers only the roles this person may grant.
    grantable = services.grantable_roles(current_user)
    form.roles.choices = [choice for choice in form.roles.choices if Role(choice.value) in grantable]


@bp.route("/admin/users/new", methods=["GET", "POST"])
@allow(*USER_ADMINS)
def user_create():
    form = UserCreateForm()
    status = 200
    if form.validate_on_submit():
        try:
            user, password = services.create_user(form.username.data, form.name.data, form.roles.data,
                                                  email=form.email.data, cohort=form.cohort.data, actor=current_user)
        except services.AccountError as exc:
            db.session.rollback()
            if isinstance(exc, services.NotAllowed):
                form.roles.errors.append(str(exc))
                status = 403
            else:
                form.username.errors.append(str(exc))
        else:
            db.session.commit()
            return render_template("accounts/user_created.html", created=[(user, password)], errors=[])
    _show_grantable_roles(form)
    return render_template("accounts/user_form.html", form=form, user=None), status


@bp.route("/admin/users/<int:user_id>", methods=["GET", "POST"])
@allow(*USER_ADMINS)
def user_edit(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not services.may_manage(current_user, user):
        abort(403)  # HR manages learners' accounts only (services.may_manage)
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if request.method == "GET":
        form.roles.data = sorted(r.value for r in user.role_set)
        form.active.data = user.active
    status = 200
    if form.validate_on_submit():
        try:
            services.update_user(current_user, user, name=form.name.data, email=form.email.data,
                                 cohort=form.cohort.data, roles=form.roles.data, active=form.active.data)
        except services.AccountError as exc:
            db.session.rollback()
            flash(str(exc), "error")
            status = 403 if isinstance(exc, services.NotAllowed) else 200
        else:
            flash(_("Saved."), "success")
            return redirect(url_for("accounts.user_list"))
    _show_grantable_roles(form)
    return render_template("accounts/user_form.html", form=form, user=user, reset_form=ResetPasswordForm(),
                           locks=services.active_locks(user), unlock_form=UnlockForm()), status


@bp.route("/admin/users/<int:user_id>/reset-password", methods=["POST"])
@allow(*USER_ADMINS)
def user_reset_password(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not ResetPasswordForm().validate_on_submit():
        abort(400)
    # NotAllowed (403) is raised before anything changes: the new password is never shown to HR for a non-learner.
    password = services.reset_password(current_user, user)
    return render_template("accounts/user_created.html", created=[(user, password)], errors=[])


@bp.route("/admin/users/<int:user_id>/unlock", methods=["POST"])
@allow(Role.ADMIN)
def user_unlock(user_id: int):
    user = db.session.get(User, user_id) or abort(404)
    if not UnlockForm().validate_on_submit():
        abort(400)
    services.unlock(user)
    db.session.commit()
    flash(_("%(user)s may log in again: the failed logins were forgotten.", user=user.username), "success")
    return redirect(url_for("accounts.user_edit", user_id=user.id))


@bp.route("/admin/users/import", methods=["GET", "POST"])
@allow(*USER_ADMINS)
def user_import():
    form = CsvImportForm()
    if form.validate_on_submit():
        report = services.import_users_csv(form.file.data.read(), actor=current_user)
        # The sheet travels inside this page only: temporary passwords are stored nowhere else.
        sheet = base64.b64encode(services.password_sheet(report.created)).decode() if report.created else None
        return render_template("accounts/user_created.html", created=report.created, errors=report.errors,
                               sheet=sheet, imported=True)
    return render_template("accounts/user_import.html", form=form, columns=services.CSV_COLUMNS)


# --- home panel (registered in __init__; read-only) -----------------------------------------------

HOME_IMPORTS_SHOWN = 5


def imports_panel(user) -> str:
    """The administrator's home panel: the latest cohort imports."""
    from sqlalchemy.orm import selectinload

    from .models import UserImport
    imports = db.session.scalars(select(UserImport).options(selectinload(UserImport.actor))
                                 .order_by(UserImport.created_at.desc(), UserImport.id.desc())
                                 .limit(HOME_IMPORTS_SHOWN)).all()
    return render_template("accounts/_home_imports.html", imports=imports)
