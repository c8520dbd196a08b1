"""The exam forms carry only the CSRF token: the answer fields depend on the drawn paper
and are read by services.responses_from_form."""
from flask_wtf import FlaskForm


class StartForm(FlaskForm):
    pass


class AnswerSheetForm(FlaskForm):
    pass
