from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
import re

from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, Regexp


class ReasonForm(FlaskForm):
    """Reject, suspend, reinstate, revoke: HR must say why (it goes into the audit log)."""
    reason = TextAreaField(_l("Reason"), validators=[DataRequired(message=_l("A reason is required.")),
                                                     Length(max=1000)])


class ApproveForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])


class SignoffForm(FlaskForm):
    note = TextAreaField(_l("Note (optional)"), validators=[Optional(), Length(max=1000)])


class WithdrawForm(FlaskForm):
    reason = TextAreaField(_l("Reason (optional)"), validators=[Optional(), Length(max=1000)])


class VerifyForm(FlaskForm):
    """The public verification page: the code printed on a certificate (secrets.token_urlsafe(16))."""
    MAX_LENGTH = 32
    PATTERN = r"^[A-Za-z0-9_-]{16,32}$"

    code = StringField(_l("Verification code"), validators=[
        DataRequired(message=_l("Enter the code printed on the certificate.")),
        Length(max=MAX_LENGTH, message=_l("A verification code has at most %(max)d characters.")),
        Regexp(PATTERN, message=_l("A verification code is 16 to 32 letters, digits, “-” or “_”, "
                                   "as printed on the certificate."))],
        filters=[lambda value: value.strip() if isinstance(value, str) else value],
        render_kw={"maxlength": MAX_LENGTH, "autocomplete": "off", "spellcheck": "false", "autocapitalize": "off"})

    @classmethod
    def well_formed(cls, code: str) -> bool:
        return bool(re.fullmatch(cls.PATTERN, code or ""))
