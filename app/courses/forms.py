from flask_wtf import FlaskForm


class MarkDoneForm(FlaskForm):
    """No fields: the lesson is in the URL; the form carries the CSRF token."""
