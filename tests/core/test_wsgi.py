"""The WSGI worker warms up and freezes what it holds before it serves."""

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import gc
import loanflow.wsgi
from django.urls import get_resolver
from django.utils.translation import trans_real
frozen, tracked = gc.get_freeze_count(), len(gc.get_objects())
print(frozen, tracked, get_resolver()._populated, sorted(trans_real._translations))
"""


def test_a_wsgi_worker_starts_with_its_urls_and_catalogs_loaded_and_its_heap_frozen():
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "loanflow.settings"}
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout.split(maxsplit=3)
    frozen, tracked, populated, catalogs = int(out[0]), int(out[1]), out[2], out[3]
    assert populated == "True"
    assert "'en'" in catalogs and "'zh-hans'" in catalogs
    # A full collection walks only what requests add, not Django's, DRF's and the URL conf's
    # objects: they are frozen, and next to nothing is left to collect.
    assert frozen > 100 * tracked and frozen > 0, (frozen, tracked)
