"""JSON log lines name their request: the web's own line, echoed in X-Request-ID, and the
lines of a Celery worker running a task the request enqueued."""

import io
import json
import logging
import time

import pytest

from loanflow.celery import app
from loanflow.observability import json_formatter
from tests.core.observe_urls import echo


@pytest.fixture
def json_lines():
    """The JSON lines logged during the test, through the production formatter."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(json_formatter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)

    def read() -> list[dict]:
        return [json.loads(line) for line in stream.getvalue().splitlines() if line]

    yield read
    root.removeHandler(handler)
    root.setLevel(old_level)


def test_a_request_logs_one_json_line_with_the_request_id_it_echoes(client, json_lines):
    response = client.get("/api/v1/health/", HTTP_X_REQUEST_ID="req-7f3a.42")
    assert response["X-Request-ID"] == "req-7f3a.42"
    lines = [line for line in json_lines() if line["logger"] == "loanflow.request"]
    assert len(lines) == 1
    assert lines[0]["request_id"] == "req-7f3a.42"
    assert lines[0]["status"] == 200
    assert lines[0]["path"] == "/api/v1/health/"
    assert lines[0]["level"] == "info"


def test_a_request_without_a_sane_id_gets_a_new_one(client, json_lines):
    response = client.get("/api/v1/health/", HTTP_X_REQUEST_ID="bad id\nforged: line")
    request_id = response["X-Request-ID"]
    assert len(request_id) == 32 and request_id.isalnum()
    lines = [line for line in json_lines() if line["logger"] == "loanflow.request"]
    assert [line["request_id"] for line in lines] == [request_id]


@pytest.mark.django_db
def test_the_log_line_names_the_signed_in_user(api, staff, json_lines):
    approver = staff["approver"]
    response = api(approver).get("/api/v1/notifications/", HTTP_X_REQUEST_ID="req-user")
    assert response.status_code == 200
    (line,) = [line for line in json_lines() if line["logger"] == "loanflow.request"]
    assert line["user_id"] == approver.pk


@pytest.mark.urls("tests.core.observe_urls")
def test_a_task_enqueued_by_a_request_logs_with_the_same_request_id(
    live_celery_worker, client, json_lines
):
    # The worker first: starting it configures logging (settings.LOGGING), as a worker does.
    assert echo.name in app.tasks
    response = client.get("/enqueue-echo/?word=hello", HTTP_X_REQUEST_ID="req-celery-1")
    assert response.status_code == 200

    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        echoed = [line for line in json_lines() if line["event"] == "echo hello"]
        if echoed:
            break
        time.sleep(0.1)
    assert echoed, "the worker did not run the task"
    assert echoed[0]["request_id"] == "req-celery-1"
    assert echoed[0]["task_name"] == "tests.observe.echo"
