"""gunicorn settings for production mode: `gunicorn -c gunicorn.conf.py` (serves wsgi:app).

Every value can be changed from the environment (see docs/production.md):

- WEB_CONCURRENCY (4) worker processes, GUNICORN_WORKER_CLASS (sync), GUNICORN_THREADS (1;
  more makes gunicorn use gthread),
  GUNICORN_BIND (127.0.0.1:8000), GUNICORN_TIMEOUT (120 s: a long reply recognised in the
  request when there is no queue), GUNICORN_KEEPALIVE (0), GUNICORN_MAX_REQUESTS (0: never
  recycle), GUNICORN_ACCESS_LOG.
- PRELOAD_SPEECH_MODELS ("" = none, "installed", or "ko-KR,zh-CN"): speech models loaded in
  the master BEFORE the workers fork, so all workers share one copy of each (copy-on-write)
  instead of each loading its own (~0.5 GB per model). Worth it when the web processes
  recognise replies themselves (no REDIS_URL); with a queue the grading workers need the
  models and the web processes do not.

preload_app is always on: the app is imported once in the master, and workers fork from it.
"""
import os

wsgi_app = "wsgi:app"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "4"))
# sync: one request at a time per worker. gthread would add threads, but on a graceful stop it
# drops connections it accepted and had not read yet (gunicorn issues #2529, #3038), so a
# restarting worker would cost some trainee an error; sync workers leave unaccepted
# connections in the shared listen queue for the other workers. Uploads are small and a
# proxy (nginx) buffers them; grading runs on the queue, so requests are short.
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "1"))  # above 1 gunicorn switches sync to gthread
preload_app = True
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "120"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "30"))
# 0: one request per connection. Behind a proxy (nginx keeps the browsers' connections alive)
# this costs nothing, and a worker that restarts (max_requests, SIGTERM, deploys) can never
# close an idle kept-alive connection just as a request is sent on it (a reset, not a 5xx, but
# an error all the same). Set it (seconds) when browsers talk to gunicorn directly.
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "0"))
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "0"))
max_requests_jitter = max_requests // 10
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
proc_name = "academy-web"


def when_ready(server):
    """In the master, after the app is loaded and before any worker forks: load the speech models."""
    from app.speechops.preload import preload_speech_models

    app = server.app.wsgi()
    loaded = preload_speech_models(app, app.config["PRELOAD_SPEECH_MODELS"])  # app/settings.py
    server.log.info("speech models loaded before fork: %s", loaded or "none (PRELOAD_SPEECH_MODELS is empty)")
    from app.core.startup import run_startup_tasks
    server.log.info("start-up tasks: %s", run_startup_tasks(app))  # no worker runs yet: no live claim
    from app.extensions import db
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()  # the master keeps no database connection for the workers to inherit


def post_fork(server, worker):
    """In each new worker: database connections must be its own, never the master's."""
    from app.extensions import db
    app = server.app.wsgi()
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose(close=False)
