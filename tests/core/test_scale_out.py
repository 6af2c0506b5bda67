"""Two web processes (gunicorn) and two Celery workers on one database and one Redis, as
separate processes: an application created through web A is served by web B; a holiday an
operator imports in a third process changes the business time web B computes next; every task
enqueued is executed by exactly one of the two workers."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from django.conf import settings
from django.urls import reverse
from rest_framework.authtoken.models import Token

from analytics.models import StageVisit
from notifications.models import EmailDelivery
from sla import calendar
from sla.calendar import RegionCalendar, business_seconds_between
from tests.factories import CompanyFactory
from tests.lifecycle import submit

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
SH = ZoneInfo("Asia/Shanghai")
# The applications waited in "submitted" since Monday 16 November 2026, 09:00; the holiday the
# operator imports is Wednesday 18 November.
SUBMITTED_AT = datetime(2026, 11, 16, 9, tzinfo=SH)
HOLIDAY = date(2026, 11, 18)
TASKS = 8


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """The processes of a small deployment, each logging to its own file."""

    def __init__(self, folder: Path, environ: dict[str, str]):
        self.folder, self.environ = folder, environ
        self.processes: dict[str, subprocess.Popen] = {}
        self.logs: list = []
        self.web: dict[str, str] = {}

    def start(self, name: str, args: list[str], **extra: str) -> None:
        log = open(self.folder / f"{name}.log", "wb")  # noqa: SIM115 - closed by stop()
        self.logs.append(log)
        self.processes[name] = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**self.environ, **extra},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def start_web(self, name: str) -> None:
        port = free_port()
        self.web[name] = f"http://127.0.0.1:{port}"
        self.start(
            name,
            [str(BIN / "gunicorn"), "-c", "gunicorn.conf.py"],
            GUNICORN_BIND=f"127.0.0.1:{port}",
            GUNICORN_WORKERS="1",
        )

    def start_worker(self, name: str) -> None:
        self.start(
            name,
            [
                str(BIN / "celery"),
                "-A",
                "loanflow",
                "worker",
                "--queues=sla,pdf,celery",
                "--pool=solo",
                f"--hostname={name}@scale-out",
                "--loglevel=INFO",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
        )

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")

    def wait_until_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        waiting = set(self.processes)
        while waiting and time.monotonic() < deadline:
            for name in sorted(waiting):
                process = self.processes[name]
                assert process.poll() is None, f"{name} exited:\n{self.log(name)[-3000:]}"
                if name in self.web:
                    try:
                        if requests.get(f"{self.web[name]}/healthz", timeout=1).ok:
                            waiting.discard(name)
                    except requests.RequestException:  # still booting
                        pass
                elif " ready." in self.log(name):
                    waiting.discard(name)
            time.sleep(0.2)
        assert not waiting, {name: self.log(name)[-2000:] for name in waiting}

    def stop(self) -> None:
        """Every process ends before the test database is flushed (their connections would
        hold its tables)."""
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        for log in self.logs:
            log.close()


@pytest.fixture
def cluster(transactional_db, tmp_path, file_stores):
    from loanflow.celery import app

    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL")
    database = settings.DATABASES["default"]
    credentials = database["USER"] + (f":{database['PASSWORD']}" if database["PASSWORD"] else "")
    environ = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "loanflow.settings",
        "DATABASE_URL": (
            f"postgres://{credentials}@{database['HOST']}:{database['PORT']}/{database['NAME']}"
        ),
        # The cache shares the broker's Redis database here (test only: nothing clears it).
        "CACHE_URL": settings.REDIS_URL,
        "DATABASE_CONN_MAX_AGE": "0",
        "LOANFLOW_VAR_DIR": str(tmp_path / "var"),  # e-mails go to var/mail (file backend)
        "LOANFLOW_MEDIA_ROOT": str(file_stores["default"]),
        "LOANFLOW_DOCUMENTS_ROOT": str(file_stores["documents"]),
        "LOANFLOW_LOG_FORMAT": "text",
        "CELERY_TASK_ALWAYS_EAGER": "false",
    }
    environ.pop("PYTEST_CURRENT_TEST", None)
    app.control.purge()  # messages earlier tests left for rows that no longer exist
    logs = tmp_path / "logs"
    logs.mkdir()
    running = Cluster(logs, environ)
    try:
        for name in ("web-a", "web-b"):
            running.start_web(name)
        for name in ("worker-1", "worker-2"):
            running.start_worker(name)
        running.wait_until_ready()
        yield running
    finally:
        running.stop()


def call(base: str, token: Token, method: str, path: str, **kwargs) -> requests.Response:
    return requests.request(
        method, base + path, headers={"Authorization": f"Token {token.key}"}, timeout=20, **kwargs
    )


def test_two_web_processes_and_two_workers_share_data_calendar_and_tasks(
    cluster, staff, branch, company, product, api
):
    web_a, web_b = cluster.web["web-a"], cluster.web["web-b"]
    rm = Token.objects.create(user=staff["rm"])

    # An application created through web A is listed and served by web B.
    payload = {
        "company": company.pk,
        "product": product.pk,
        "amount": "800000.00",
        "term_months": 12,
        "interest_rate": "4.350",
        "repayment_method": "equal_instalments",
        "guarantee_type": "credit",
        "purpose": "Working capital",
    }
    other = CompanyFactory(home_branch=branch, name="Shenzhen Bright Parts Co., Ltd.")
    created = [
        call(web_a, rm, "post", reverse("api-applications"), json={**payload, "company": pk})
        for pk in (company.pk, other.pk)
    ]
    assert [response.status_code for response in created] == [201, 201], created[1].text
    first, second = (response.json()["id"] for response in created)
    listed = call(web_b, rm, "get", reverse("api-applications")).json()["results"]
    assert {first, second} <= {row["id"] for row in listed}
    detail = call(web_b, rm, "get", reverse("api-application", args=[second]))
    assert detail.json()["reference"] == created[1].json()["reference"]

    # Both wait in "submitted" since Monday; web B closes the first stage visit, which loads
    # (and caches) the calendar in web B.
    for pk in (first, second):
        submit(api, staff, pk)
    StageVisit.objects.filter(application__in=[first, second], stage="submitted").update(
        entered_at=SUBMITTED_AT
    )
    start = "api-application-start-investigation"
    assert call(web_b, rm, "post", reverse(start, args=[first])).status_code == 200

    # An operator imports a holiday in a process of its own; web B's next computation counts
    # it (within sla.calendar.RECHECK_SECONDS), though web B cached the calendar before.
    schedule = cluster.folder / "holiday.csv"
    schedule.write_text(f"date,kind,name\n{HOLIDAY},holiday,Bank holiday\n", encoding="utf-8")
    subprocess.run(
        [sys.executable, "manage.py", "sla_import_calendar", str(schedule)],
        cwd=ROOT,
        env=cluster.environ,
        check=True,
        capture_output=True,
        timeout=60,
    )
    time.sleep(calendar.RECHECK_SECONDS + 0.2)
    assert call(web_b, rm, "post", reverse(start, args=[second])).status_code == 200

    without = RegionCalendar(region="CN", tz=SH, start=clock(9), end=clock(17))
    with_holiday = RegionCalendar(
        region="CN", tz=SH, start=clock(9), end=clock(17), exceptions={HOLIDAY: "holiday"}
    )
    visits = {
        visit.application_id: visit
        for visit in StageVisit.objects.filter(
            application__in=[first, second], stage="submitted", left_at__isnull=False
        )
    }
    before, after = visits[first], visits[second]
    assert before.business_seconds == business_seconds_between(
        SUBMITTED_AT, before.left_at, calendar=without
    )
    assert after.business_seconds == business_seconds_between(
        SUBMITTED_AT, after.left_at, calendar=with_holiday
    )
    assert after.business_seconds < before.business_seconds  # a whole day fewer, less seconds

    # Each task enqueued here is executed once, by one of the two workers.
    from notifications.tasks import send_emails

    deliveries = [
        EmailDelivery.objects.create(
            user=staff["rm"], to=f"scale-out-{n}@bank.example", subject=f"Task {n}", body="x"
        )
        for n in range(TASKS)
    ]
    for delivery in deliveries:
        send_emails.apply_async(args=[[delivery.pk]], task_id=f"scale-out-{delivery.pk}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if not EmailDelivery.objects.filter(
            pk__in=[d.pk for d in deliveries], sent_at__isnull=True
        ).exists():
            break
        time.sleep(0.2)
    sent = EmailDelivery.objects.filter(pk__in=[d.pk for d in deliveries])
    assert sorted(sent.values_list("status", "attempts")) == [("sent", 1)] * TASKS
    mail = "".join(
        path.read_text(errors="replace")
        for path in (cluster.folder.parent / "var" / "mail").glob("*")
    )
    for delivery in deliveries:
        assert mail.count(f"To: {delivery.to}\n") == 1
    ran = {
        name: re.findall(r"scale-out-(\d+)\] succeeded", cluster.log(name))
        for name in ("worker-1", "worker-2")
    }
    executed = ran["worker-1"] + ran["worker-2"]
    assert sorted(map(int, executed)) == sorted(d.pk for d in deliveries)
