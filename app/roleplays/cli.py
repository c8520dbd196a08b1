"""`flask roleplay ...`: score a reply from the command line, regrade a waiting attempt, expire idle calls."""
import click
from flask.cli import AppGroup

from . import errors, grader, operations, text_scoring

roleplay_cli = AppGroup("roleplay", help="Role-play drills: score replies, regrade attempts, expire idle calls.")


@roleplay_cli.command("score")
@click.argument("scenario")
@click.option("--node", default=None, help="Node id (default: the scenario's start node).")
@click.option("--text", required=True, help="The trainee's reply, as typed or transcribed.")
@click.option("--lang", "ui_language", type=click.Choice(["zh-CN", "en"]), default="zh-CN", show_default=True,
              help="Language of tips and explanations.")
@click.option("--root", type=click.Path(file_okay=False, exists=True), default=None,
              help="Content root to read the scenario from when it is not synced.")
def score_command(scenario, node, text, ui_language, root):
    """Grade TEXT as a reply at NODE of SCENARIO and print JSON (score, items, tips, transition)."""
    try:
        doc, phrasebook, source = text_scoring.scenario_doc_for(scenario, root)
        result = text_scoring.score_text(doc, node, text, ui_language, phrasebook)
    except errors.RoleplayError as exc:
        raise click.ClickException(exc.message) from None
    result["source"] = source
    click.echo(text_scoring.dumps(result))


@roleplay_cli.command("regrade")
@click.argument("attempt_id", type=int)
@click.option("--rescore", is_flag=True,
              help="Also grade the finished replies again with today's grader (same scenario version, same path).")
def regrade_command(attempt_id, rescore):
    """Grade the replies of ATTEMPT_ID that are still waiting (saved but not graded); with --rescore,
    grade a finished call's replies again."""
    try:
        attempt = grader.regrade_attempt(attempt_id)
        if rescore and attempt is not None:
            attempt = grader.rescore_attempt(attempt_id)
    except errors.GradingFailed as exc:
        raise click.ClickException(f"turn {exc.turn_id} still cannot be graded: {exc.message}") from None
    except errors.RoleplayError as exc:
        raise click.ClickException(exc.message) from None
    if attempt is None:
        raise click.ClickException(f"no attempt {attempt_id}")
    click.echo(text_scoring.dumps({"attempt_id": attempt.id, "status": attempt.status, "ending": attempt.ending,
                                   "score": attempt.score, "passed": attempt.passed,
                                   "turns": [{"id": t.id, "status": t.status, "transcript": t.transcript,
                                              "score_fraction": t.score_fraction} for t in attempt.turns]}))


@roleplay_cli.command("expire-idle")
def expire_idle_command():
    """Write calls left ringing or in progress for longer than 2 hours as abandoned (run it from cron).

    Pages already show such calls as abandoned without writing; this makes it last. Running it again
    changes nothing."""
    click.echo(f"{operations.expire_idle()} idle call(s) marked abandoned")
