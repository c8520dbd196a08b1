from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import InputRequired


class StartForm(FlaskForm):
    mode = RadioField(_l("How will you reply?"),
                      choices=[SelectChoice("voice", _l("By voice (microphone)")),
                               SelectChoice("typed", _l("By typing"))],
                      default="voice", validators=[InputRequired()])
    # Trainers only (a trainer who is not also a learner always practises): recorded nowhere.
    practice = BooleanField(_l("Practice as a trainer: this call counts in no statistics, review queue or "
                               "certification"))
