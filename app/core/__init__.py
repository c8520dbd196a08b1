
def init_app(app):
    from . import inputs
    inputs.init_app(app)  # first: the <int:> converter applies only to routes added after it
    from . import limits
    from .cli import serve_command
    from .views import bp
    limits.init_app(app)
    app.register_blueprint(bp)
    app.cli.add_command(serve_command)
