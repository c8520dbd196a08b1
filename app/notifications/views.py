from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..core.access import AUTHENTICATED, allow
from ..core.inputs import db_int
from . import services
from .forms import ActionForm

bp = Blueprint("notifications", __name__, template_folder="templates")


@bp.route("/notifications")
@allow(AUTHENTICATED)
def index():
    page = max(1, request.args.get("page", 1, type=db_int) or 1)
    shown, more = services.page_of(current_user.id, page)
    return render_template("notifications/index.html", shown=shown, page=page, more=more, form=ActionForm(),
                           unread=services.unread_count(current_user.id))


def _own_or_404(notice_id: int):
    # Someone else's notice is simply not found (no hint that it exists).
    return services.own_notice(current_user.id, notice_id) or abort(404)


@bp.route("/notifications/<int:notice_id>/read", methods=["POST"])
@allow(AUTHENTICATED)
def mark_read(notice_id: int):
    notice = _own_or_404(notice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_read(notice)
    return redirect(url_for(".index"))


@bp.route("/notifications/<int:notice_id>/open", methods=["POST"])
@allow(AUTHENTICATED)
def open_notice(notice_id: int):
    """Mark read and go where the notice points (a GET must not change anything, so this is a form)."""
    notice = _own_or_404(notice_id)
    if not ActionForm().validate_on_submit():
        abort(400)
    services.mark_read(notice)
    return redirect(services.link_of(notice) or url_for(".index"))


@bp.route("/notifications/read-all", methods=["POST"])
@allow(AUTHENTICATED)
def mark_all_read():
    if not ActionForm().validate_on_submit():
        abort(400)
    count = services.mark_all_read(current_user.id)
    if count:
        flash(_("All notices are marked as read."), "success")
    return redirect(url_for(".index"))


@bp.app_context_processor
def inject_unread_count():
    # One count per page for the header; nothing is written.
    if not current_user.is_authenticated:
        return {"unread_notices": 0}
    return {"unread_notices": services.unread_count(current_user.id)}
