from flask_wtf import FlaskForm


class ActionForm(FlaskForm):
    """A button that changes something (mark read, mark all read, open): only the CSRF token."""
