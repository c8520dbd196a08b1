from flask import Blueprint, Response, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts.models import User

from ..core.clock import utcnow
from ..core.access import PUBLIC, Role, allow, has_role
from ..core.clock import local_date
from ..core.inputs import db_int
from ..extensions import db
from . import batch, exports, flags, operations, presenters, queries
from .evidence_sources import call_facts, library_languages
from .forms import ApproveForm, ReasonForm, SignoffForm, VerifyForm, WithdrawForm
from .labels import LEVEL_NAMES, LEVELS, STATUS_BILINGUAL, level_label
from .links import build_path
from .models import ACTIVE, PENDING, STATUSES, SUSPENDED, Certificate, SignOff
from .pdf import FONT_PACKAGE, FontMissing, certificate_pdf

bp = Blueprint("certification", __name__, template_folder="templates")


@bp.app_context_processor
def _certification_helpers():
    # Other domains' pages show certification's word through these (no import of this domain):
    # the scenario brief and library (roleplays), the review page of a call (reviews).
    return {"certification_typed_notices": presenters.typed_call_notices,
            "certification_call_signoff": _call_signoff_panel}


def _call_signoff_panel(attempt_id: int):
    if not current_user.is_authenticated or not has_role(current_user, Role.TRAINER):
        return None
    panel = queries.call_signoff_panel(attempt_id, current_user)
    if panel is None:
        return None
    return {"panel": panel, "form": SignoffForm(), "withdraw_form": WithdrawForm(),
            "level_names": [level_label(level) for level in panel.levels]}


def _certificate_or_404(certificate_id: int) -> Certificate:
    return db.session.get(Certificate, certificate_id) or abort(404)


def _learner_or_404(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None or Role.LEARNER not in user.role_set:
        abort(404)
    return user


def _verify_url(certificate: Certificate) -> str:
    """The verification page as a link inside the app (on screen: the browser resolves it)."""
    return url_for("certification.verify", code=certificate.code)


class NoPublicAddress(RuntimeError):
    """Neither PUBLIC_BASE_URL nor SERVER_NAME is configured, so a printed link has no trustworthy host."""


def _public_verify_url(certificate: Certificate) -> str:
    """The verification page as printed on paper: from the configured public address, never from the
    request's Host header (a forged Host would put an attacker's site in the certificate's QR code)."""
    base = current_app.config.get("PUBLIC_BASE_URL")
    if not base and current_app.config.get("SERVER_NAME"):
        base = f"{current_app.config.get('PREFERRED_URL_SCHEME') or 'http'}://{current_app.config['SERVER_NAME']}"
    if not base:
        raise NoPublicAddress("PUBLIC_BASE_URL is not set")
    path = build_path("certification.verify", code=certificate.code)
    return base.rstrip("/") + path


# --- learner --------------------------------------------------------------------------



def _carry_out(operation, success: str) -> None:
    """Run one certification operation; a refusal is rolled back and flashed, success flashed."""
    try:
        operation()
    except operations.CertificationError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    else:
        flash(success, "success")

@bp.route("/certification")
@allow(Role.LEARNER)
def mine():
    standing = queries.standing(current_user)
    labels = standing.version.labels if standing.version else {}
    rows = presenters.requirement_rows(standing.evaluation.to_dict(), labels) if standing.evaluation else []
    certificates = [c for c in standing.certificates if c.status != "rejected"]
    typed_notices: list[str] = []
    if standing.next_level:
        for language in library_languages():
            for notice in map(str, presenters.typed_call_notices(language)):
                if notice not in typed_notices:
                    typed_notices.append(notice)
    return render_template("certification/mine.html", standing=standing, rows=rows, certificates=certificates,
                           verify_url=_verify_url, typed_notices=typed_notices)


# --- public verification ---------------------------------------------------------------


@bp.route("/verify")
@allow(PUBLIC)
def verify_form():
    """Enter a code from a printed certificate (a GET form: looking a code up changes nothing)."""
    form = VerifyForm(request.args, meta={"csrf": False})
    if "code" in request.args:
        if form.validate():
            return redirect(url_for("certification.verify", code=form.code.data.strip()))
        return render_template("certification/verify_form.html", form=form), 400
    return render_template("certification/verify_form.html", form=form)


@bp.route("/verify/<code>")
@allow(PUBLIC)
def verify(code: str):
    certificate = queries.find_by_code(code) if VerifyForm.well_formed(code) else None
    if certificate is None:
        # Not the generic 404: say plainly that no certificate has this code, and let them try again.
        return render_template("certification/verify_unknown.html", code=code[:VerifyForm.MAX_LENGTH],
                               form=VerifyForm(meta={"csrf": False})), 404
    now = utcnow()
    return render_template("certification/verify.html", holder=queries.issued_name(certificate),
                           level=certificate.level, status=certificate.status_at(now),
                           valid=certificate.is_valid(now), expires_at=certificate.expires_at,
                           issued_at=certificate.issued_at, status_changed_at=certificate.status_changed_at,
                           level_names=LEVEL_NAMES)


# --- HR --------------------------------------------------------------------------------


def _roster_filters() -> dict:
    return {
        "query": request.args.get("q", "").strip(),
        "cohort": request.args.get("cohort", "").strip(),
        "level": request.args.get("level", "") if request.args.get("level", "") in LEVELS else "",
        "status": request.args.get("status", "") if request.args.get("status", "") in STATUSES else "",
        "expiring": request.args.get("expiring") == "1",
    }


@bp.route("/certification/records")
@allow(Role.HR)
def roster():
    filters = _roster_filters()
    rows = queries.roster(**filters)
    summaries = batch.ladder_summaries(row.user.id for row in rows)  # requirements met, last activity
    counts = queries.level_counts(rows)
    rates = queries.pass_rates(rows)
    return render_template(
        "certification/roster.html", rows=rows, filters=filters, cohorts=queries.cohorts(),
        statuses=STATUSES, summaries=summaries,
        count_chart=presenters.count_chart(counts), rate_chart=presenters.rate_chart(rates), rates=rates,
        pending=queries.pending_certificates(), expiring=queries.expiring_certificates(),
        export_args={k: v for k, v in request.args.items() if k in ("q", "cohort", "level", "status", "expiring")})


@bp.route("/certification/records.csv")
@allow(Role.HR)
def roster_export():
    rows = queries.roster(**_roster_filters())
    summaries = batch.ladder_summaries(row.user.id for row in rows)
    # Headings and values in the UI language; ?format=machine: fixed English headings for integrations.
    machine = request.args.get("format") == "machine"
    return _csv(exports.roster_csv(rows, summaries, machine=machine),
                "certification-roster-machine.csv" if machine else "certification-roster.csv")


@bp.route("/certification/audit.csv")
@allow(Role.HR)
def audit_export():
    user_id = request.args.get("user", type=db_int)
    entries = queries.audit_trail(user_id)
    name = f"certification-audit-{user_id}.csv" if user_id else "certification-audit.csv"
    return _csv(exports.audit_csv(entries), name)


def _csv(data: bytes, filename: str) -> Response:
    return Response(data, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Content-Type": "text/csv; charset=utf-8",
        "Cache-Control": "private, no-store"})


@bp.route("/certification/records/<int:user_id>")
@allow(Role.HR)
def person(user_id: int):
    user = _learner_or_404(user_id)
    standing = queries.standing(user)
    labels = standing.version.labels if standing.version else {}
    evaluations = [(level, presenters.requirement_rows(evaluation.to_dict(), labels), evaluation.met)
                   for level, evaluation in standing.evaluations.items()]
    certificate_rows = [
        (certificate, presenters.requirement_rows(certificate.evidence.get("evaluation", {}),
                                                  certificate.version.labels))
        for certificate in reversed(standing.certificates)]
    signoffs = db.session.scalars(select(SignOff).where(SignOff.learner_id == user.id)
                                  .order_by(SignOff.created_at.desc())).all()
    return render_template(
        "certification/person.html", person=user, standing=standing, evaluations=evaluations,
        certificate_rows=certificate_rows, signoffs=signoffs, audit=queries.audit_trail(user.id),
        reason_form=ReasonForm(), approve_form=ApproveForm(),
        verify_url=_verify_url, ACTIVE=ACTIVE, PENDING=PENDING, SUSPENDED=SUSPENDED,
        evidence_flags=flags.flags_of(user.id))


def _decision(certificate_id: int, action):
    certificate = _certificate_or_404(certificate_id)
    form = ApproveForm() if action is operations.approve else ReasonForm()
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(error, "error")
    else:
        value = form.note.data if action is operations.approve else form.reason.data
        _carry_out(lambda: action(certificate, current_user, value), _("Saved."))
    return redirect(url_for("certification.person", user_id=certificate.user_id))


@bp.route("/certification/certificates/<int:certificate_id>/approve", methods=["POST"])
@allow(Role.HR)
def approve(certificate_id: int):
    return _decision(certificate_id, operations.approve)


@bp.route("/certification/certificates/<int:certificate_id>/reject", methods=["POST"])
@allow(Role.HR)
def reject(certificate_id: int):
    return _decision(certificate_id, operations.reject)


@bp.route("/certification/certificates/<int:certificate_id>/suspend", methods=["POST"])
@allow(Role.HR)
def suspend(certificate_id: int):
    return _decision(certificate_id, operations.suspend)


@bp.route("/certification/certificates/<int:certificate_id>/reinstate", methods=["POST"])
@allow(Role.HR)
def reinstate(certificate_id: int):
    return _decision(certificate_id, operations.reinstate)


@bp.route("/certification/certificates/<int:certificate_id>/revoke", methods=["POST"])
@allow(Role.HR)
def revoke(certificate_id: int):
    return _decision(certificate_id, operations.revoke)


@bp.route("/certification/certificates/<int:certificate_id>.pdf")
@allow(Role.HR, Role.LEARNER)
def certificate_pdf_view(certificate_id: int):
    certificate = _certificate_or_404(certificate_id)
    if not has_role(current_user, Role.HR) and certificate.user_id != current_user.id:
        abort(404)  # a learner sees only their own (and learns nothing about others')
    if certificate.issued_at is None:
        abort(404)
    zh, en = LEVEL_NAMES[certificate.level]
    status = certificate.status_at(utcnow())
    note = None if status == ACTIVE else f"状态 Status: {STATUS_BILINGUAL.get(status, status)}"
    font_path = current_app.config["CERT_FONT_PATH"]
    try:
        verify_url = _public_verify_url(certificate)
    except NoPublicAddress:
        current_app.logger.error("certificate PDF: PUBLIC_BASE_URL is not configured")
        message = _("The certificate cannot be printed: the address of this site is not configured. "
                    "Ask the administrator to set PUBLIC_BASE_URL (for example https://academy.example.com).")
        return render_template("errors/error.html", code=503, title=_("Site address not configured"),
                               message=message, detail=None), 503
    try:
        data = certificate_pdf(holder_name=queries.issued_name(certificate), level_zh=zh, level_en=en,
                               issued_at=local_date(certificate.issued_at),
                               expires_at=local_date(certificate.expires_at),
                               code=certificate.code, verify_url=verify_url,
                               requirement_version=certificate.requirement_version, status_note=note,
                               font_path=font_path)
    except FontMissing as exc:
        current_app.logger.error("certificate PDF: %s", exc)
        message = _("The certificate cannot be printed: the Chinese font %(path)s is missing. "
                    "Ask the administrator to install the package %(package)s.",
                    path=exc.path, package=FONT_PACKAGE)
        return render_template("errors/error.html", code=500, title=_("Font missing"), message=message,
                               detail=None), 500
    filename = f"certificate-{certificate.id}-{certificate.level}.pdf"
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})


# --- trainer sign-off ---------------------------------------------------------------------


@bp.route("/certification/signoffs")
@allow(Role.TRAINER)
def signoffs():
    query = request.args.get("q", "").strip()
    cohort = request.args.get("cohort", "").strip()
    people = queries.learners(query, cohort)
    now = utcnow()
    rows = []
    for person in people:
        certificates = queries.certificates_of(person.id)
        rows.append((person, queries.current_level_of(certificates, now), queries.active_signoff(person.id)))
    return render_template("certification/signoffs.html", rows=rows, query=query, cohort=cohort,
                           cohorts=queries.cohorts(),
                           form=SignoffForm(), withdraw_form=WithdrawForm(),
                           flags_by_user=flags.flags_by_user(person.id for person in people))


@bp.route("/certification/signoffs/learners/<int:user_id>", methods=["POST"])
@allow(Role.TRAINER)
def signoff_give(user_id: int):
    learner = _learner_or_404(user_id)
    form = SignoffForm()
    if form.validate_on_submit():
        _carry_out(lambda: operations.give_signoff(current_user, learner, form.note.data or ""),
                   _("%(name)s is signed off for the expert level.", name=learner.name))
    else:
        flash(_("The form could not be read. Reload the page and try again."), "error")
    return redirect(url_for("certification.signoffs", q=request.args.get("q", "")))


@bp.route("/certification/signoffs/<int:signoff_id>/withdraw", methods=["POST"])
@allow(Role.TRAINER)
def signoff_withdraw(signoff_id: int):
    signoff = db.session.get(SignOff, signoff_id) or abort(404)
    if signoff.trainer_id != current_user.id:
        abort(403)  # only the trainer who gave a sign-off withdraws it
    form = WithdrawForm()
    if form.validate_on_submit():
        _carry_out(lambda: operations.withdraw_signoff(signoff, current_user, form.reason.data or ""),
                   _("The sign-off was withdrawn."))
    if signoff.attempt_id is not None:
        return redirect(_review_page(signoff.attempt_id))
    return redirect(url_for("certification.signoffs"))


# --- a typed call signed off in place of a voice pass (from the call's review page) -----------


def _review_page(attempt_id: int) -> str:
    return build_path("reviews.attempt", attempt_id=attempt_id) or url_for("certification.signoffs")


@bp.route("/certification/signoffs/calls/<int:attempt_id>", methods=["POST"])
@allow(Role.TRAINER)
def call_signoff(attempt_id: int):
    if call_facts(attempt_id) is None:
        abort(404)
    form = SignoffForm()
    if form.validate_on_submit():
        _carry_out(lambda: operations.sign_off_call(current_user, attempt_id, form.note.data or ""),
                   _("The call is signed off: it now counts in place of a voice pass."))
    else:
        flash(_("The form could not be read. Reload the page and try again."), "error")
    return redirect(_review_page(attempt_id))
