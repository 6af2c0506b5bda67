"""gunicorn's configuration (read from the working folder: the image, `make bench`).

Every value comes from the environment; the defaults suit the two-core machine of
docs/adr/0007 (two sync workers, persistent database connections).
"""

import gc
import os

wsgi_app = "loanflow.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
# A worker is replaced after about this many requests (0: never), so a slow leak cannot grow
# for ever; the jitter keeps workers from restarting together.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "5000"))
max_requests_jitter = int(os.environ.get("GUNICORN_MAX_REQUESTS_JITTER", str(max_requests // 10)))
# A request still running after `timeout` seconds has its worker killed. The statement timeout
# below is shorter, so a slow query ends as an error the request can answer, not a kill.
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
graceful_timeout = int(os.environ.get("GUNICORN_GRACEFUL_TIMEOUT", "20"))
keepalive = int(os.environ.get("GUNICORN_KEEPALIVE", "5"))
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-")
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOG_LEVEL", "info")
# Client address, request line, status, bytes, duration in microseconds, user agent.
access_log_format = '%({x-forwarded-for}i)s %(h)s "%(r)s" %(s)s %(B)s %(D)sus "%(a)s"'

# Only the web process cancels statements that run too long (milliseconds); migrations, beat
# and the workers run without (settings.py reads it; an explicit value wins).
os.environ.setdefault("DATABASE_STATEMENT_TIMEOUT", str((timeout - 5) * 1000))


def post_worker_init(worker):
    """Warm up, then freeze the heap (docs/adr/0009): each worker loads its URL conf (and
    through its includes every app's views) and its translation catalogs before it serves, then
    moves what it holds into the collector's permanent generation, so a full collection walks
    only what requests create, not the ~130,000 objects of Django, DRF and the URL conf (80-150
    ms each, every worker at once, under load)."""
    from django.conf import settings
    from django.urls import reverse
    from django.utils import translation

    reverse("api-health")  # imports the URL conf and its includes, and builds its indexes
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            pass  # activating a language loads its catalogs
    gc.freeze()
