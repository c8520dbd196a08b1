
def init_app(app):
    from .cli import serve_command
    from .views import bp
    app.register_blueprint(bp)
    app.cli.add_command(serve_command)
