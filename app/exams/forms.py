"""The exam forms carry only the CSRF token: the answer fields depend on the drawn paper
and are read by services.responses_from_form."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField


class StartForm(FlaskForm):
    # Trainers only (a trainer who is not also a learner always practises): counted nowhere.
    practice = BooleanField(_l("Practice as a trainer: this attempt counts in no statistics, attempt limit or "
                               "certification"))


class AnswerSheetForm(FlaskForm):
    pass
