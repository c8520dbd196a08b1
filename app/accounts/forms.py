from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, EmailField, PasswordField, SelectMultipleField, StringField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, EqualTo, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from ..core.access import Role
from .services import MIN_PASSWORD_LENGTH

ROLE_LABELS = {
    Role.LEARNER: _l("Learner (new hire / trainee)"),
    Role.TRAINER: _l("Trainer"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
}
# A role as a short name in lists (never its code).
ROLE_NAMES = {
    Role.LEARNER: _l("Learner"),
    Role.TRAINER: _l("Trainer"),
    Role.HR: _l("HR"),
    Role.ADMIN: _l("Administrator"),
}


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


def role_field():
    return MultiCheckboxField(_l("Roles"), choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
                              validators=[DataRequired(message=_l("Choose at least one role."))])


class LoginForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Password"), validators=[DataRequired()])


class ChangePasswordForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[DataRequired()])
    new_password = PasswordField(_l("New password"), validators=[DataRequired(), Length(min=MIN_PASSWORD_LENGTH)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[DataRequired(), EqualTo("new_password", message=_l("The passwords differ."))])


class UserCreateForm(FlaskForm):
    username = StringField(_l("Username"), validators=[DataRequired(), Length(min=2, max=64)])
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    cohort = StringField(_l("Cohort"), validators=[Optional(), Length(max=64)])
    roles = role_field()


class UserEditForm(FlaskForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=120)])
    email = EmailField(_l("Email"), validators=[Optional(), Length(max=254)])
    cohort = StringField(_l("Cohort"), validators=[Optional(), Length(max=64)])
    roles = role_field()
    active = BooleanField(_l("Active (may log in)"))


class CsvImportForm(FlaskForm):
    file = FileField(_l("CSV file"), validators=[FileRequired(), FileAllowed(["csv"], _l("Only .csv files."))])


class ResetPasswordForm(FlaskForm):
    """Empty form: the button resets the password; the form exists for its CSRF token."""


class UnlockForm(FlaskForm):
    """Empty form: the button ends a login lockout; the form exists for its CSRF token."""
