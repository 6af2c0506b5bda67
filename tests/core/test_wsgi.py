"""gunicorn's configuration warms each worker up and freezes what it holds before it serves,
and reads its settings from the environment."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc, runpy
import loanflow.wsgi
runpy.run_path("gunicorn.conf.py")["post_worker_init"](None)
from django.urls import get_resolver
from django.utils.translation import trans_real
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
print(frozen, tracked, get_resolver()._populated, sorted(trans_real._translations))
"""


def run(args, **env):
    return subprocess.run(
        args,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "loanflow.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout


def test_a_gunicorn_worker_starts_with_its_urls_and_catalogs_loaded_and_its_heap_frozen():
    out = run([sys.executable, "-c", PROBE]).split(maxsplit=3)
    frozen, tracked, populated, catalogs = int(out[0]), int(out[1]), out[2], out[3]
    assert populated == "True"
    assert "'en'" in catalogs and "'zh-hans'" in catalogs
    # A full collection walks only what requests add, not Django's, DRF's and the URL conf's
    # objects: they are frozen, and next to nothing is left to collect.
    assert frozen > 100 * tracked and frozen > 0, (frozen, tracked)


def test_importing_the_wsgi_application_alone_freezes_nothing():
    out = run([sys.executable, "-c", "import gc, loanflow.wsgi; print(gc.get_freeze_count())"])
    assert int(out) == 0


def test_gunicorn_takes_its_workers_and_restarts_from_the_environment():
    gunicorn = Path(sys.executable).parent / "gunicorn"
    out = run(
        [str(gunicorn), "--print-config"],
        GUNICORN_WORKERS="3",
        GUNICORN_THREADS="2",
        GUNICORN_MAX_REQUESTS="1000",
    )
    config = dict(
        (part.strip() for part in line.split("=", 1)) for line in out.splitlines() if "=" in line
    )
    assert config["wsgi_app"] == "loanflow.wsgi:application"
    assert (config["workers"], config["threads"]) == ("3", "2")
    assert (config["max_requests"], config["max_requests_jitter"]) == ("1000", "100")
    assert int(config["graceful_timeout"]) > 0 and int(config["timeout"]) > 0
