def init_app(app):
    from .cli import content_cli
    app.cli.add_command(content_cli)
