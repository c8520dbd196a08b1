"""Forms of the authoring pages. The repeatable-rows editors are in editor.py; these carry the
CSRF token (hidden_tag) and the simple fields."""
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import HiddenField, TextAreaField


class ActionForm(FlaskForm):
    """Publish, retire, and the editors' rows (their fields are read by editor.py)."""
    base_checksum = HiddenField()


class YamlForm(FlaskForm):
    text = TextAreaField(_l("YAML"))
    base_checksum = HiddenField()


class ImportForm(FlaskForm):
    text = TextAreaField(_l("Paste YAML"))
    upload = FileField(_l("…or upload a .yaml file"))
