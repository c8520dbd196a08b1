from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, SelectMultipleField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class AssignmentForm(FlaskForm):
    """Choices (work, cohorts, learners) are filled in by the view."""
    work = SelectField(_l("What to assign"), validators=[InputRequired(message=_l("Choose what to assign."))])
    due_date = DateField(_l("Due date"), validators=[DataRequired(message=_l("A due date is required."))])
    cohort = SelectField(_l("Cohort"), validators=[Optional()])
    learners = SelectMultipleField(_l("Named learners"), coerce=int, validators=[Optional()])
    require_voice = BooleanField(_l("Voice replies required (drills only): typed replies are refused"))
    note = TextAreaField(_l("Note for the learners (optional)"), validators=[Optional(), Length(max=500)])
    # Shown only after the warning that the drill's language cannot be graded by voice on this server.
    confirm_no_voice = BooleanField(_l("Assign it anyway: I know that until a speech model is installed, these "
                                       "learners cannot start this drill"))


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""
