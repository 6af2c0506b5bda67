"""Row-lock scenarios for the approval tests, with connections of their own (transactions the
test holds open while a request waits)."""

import threading
import time

import psycopg
from django.db import connection, connections


def psycopg_dsn() -> dict:
    """The test database, for connections of its own."""
    conf = connection.settings_dict
    return {
        "dbname": conf["NAME"],
        "user": conf["USER"],
        "host": conf["HOST"] or "127.0.0.1",
        "port": conf["PORT"] or 5432,
        "password": conf.get("PASSWORD") or None,
    }


def status_while_application_locked(*, application_id: int, task_id: int, request) -> int:
    """Run `request` (a callable answering a status code) in a thread while another
    connection holds the application's row lock; once the request waits on a lock, check
    that the task's row is free (a transition of the application, which locks it and then its
    tasks, could take it: no deadlock), then let it go. Returns the request's status code."""
    answers = []

    def run():
        try:
            answers.append(request())
        finally:
            connections.close_all()

    dsn = psycopg_dsn()
    with psycopg.connect(**dsn) as holder, psycopg.connect(**dsn) as probe:
        holder.execute(
            "SELECT id FROM applications_loanapplication WHERE id = %s FOR UPDATE", [application_id]
        )
        waiting = threading.Thread(target=run)
        waiting.start()
        deadline = time.monotonic() + 10
        while not probe.execute(  # the request is waiting on the application's row lock
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        ).fetchone()[0]:
            probe.rollback()
            assert time.monotonic() < deadline, ("the request never waited", answers)
            time.sleep(0.05)
        probe.execute("SET lock_timeout = '1s'")  # raises LockNotAvailable if it is held
        probe.execute("SELECT id FROM approvals_approvaltask WHERE id = %s FOR UPDATE", [task_id])
        probe.rollback()
        holder.rollback()
        waiting.join(timeout=30)
    assert len(answers) == 1, answers
    return answers[0]
