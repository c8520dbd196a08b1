from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional


class OverrideForm(FlaskForm):
    """One item's new points; the template renders one per item with plain inputs of these names."""
    turn_id = HiddenField()          # empty for a call-level item
    item_id = HiddenField(validators=[DataRequired()])
    points = FloatField(_l("Points"), validators=[InputRequired(message=_l("Enter the points."))])
    comment = TextAreaField(_l("Comment (required)"), validators=[
        DataRequired(message=_l("A comment is required: say why the automatic verdict is wrong.")),
        Length(max=2000)])


class LessonForm(FlaskForm):
    """Teach the grader: the trainee's words from one reply, and what they should count as."""
    turn_id = HiddenField(validators=[DataRequired()])
    target = HiddenField(validators=[DataRequired(message=_l("Choose what the phrase should count as."))])
    phrase = StringField(_l("The trainee's words"), validators=[
        DataRequired(message=_l("Give the trainee's words to teach.")), Length(max=200)])


class FlagForm(FlaskForm):
    reason = StringField(_l("Why (optional)"), validators=[Optional(), Length(max=500)])


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token."""


class ReviewedForm(FlaskForm):
    """Mark a call as reviewed, with an optional overall comment the trainee reads on the report."""
    comment = TextAreaField(_l("Overall comment for the trainee (optional)"), validators=[Optional(), Length(max=2000)])
