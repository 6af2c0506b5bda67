"""Every task of the project lands on the queue meant for it: deadlines and e-mails on `sla`,
PDF renders on `pdf`, the rest on Celery's default `celery` (docker-compose.yml runs one
worker service per queue)."""

from django.conf import settings

from loanflow.celery import app

INTENDED = {
    "sla.tasks.sweep": "sla",
    "notifications.tasks.send_email": "sla",
    "notifications.tasks.send_emails": "sla",
    "notifications.tasks.requeue_undelivered": "sla",
    "approvals.tasks.announce_task": "sla",
    "investigation.render_credit_memo": "pdf",
    "disbursement.tasks.render_offer_pdf": "pdf",
    "disbursement.tasks.render_pending_offers": "pdf",
    "contracts.tasks.render_contract_pdf": "pdf",
    "contracts.tasks.render_signed_contract_pdf": "pdf",
    "contracts.tasks.render_pending_contracts": "pdf",
    "contracts.tasks.file_loan_files": "celery",
    "sla.tasks.calendar_coverage": "celery",
    "investigation.requeue_pending_memos": "celery",
    "investigation.data_fast_track": "celery",
    "investigation.data_fast_track_sweep": "celery",
    "approvals.tasks.fast_track_decide": "celery",
    "approvals.tasks.release_stale_claims": "celery",
    "postloan.tasks.daily_job": "celery",
    "postloan.tasks.start_missing_clocks": "celery",
    "postloan.tasks.exposure_snapshot_refresh": "celery",
    "facilities.tasks.expire_facilities": "celery",
    "audit.tasks.verify_trail": "celery",
    "analytics.tasks.record_loan_month_ends": "celery",
    "datasources.fetch_source_answer": "celery",
    "datasources.advance_data_route": "celery",
    "datasources.requeue_due_queries": "celery",
    "datasources.requery_active_loans": "celery",
}


def project_tasks() -> dict:
    """The registered tasks defined in the project's own apps (not Celery's built-ins)."""
    app.loader.import_default_modules()  # autodiscovery: every app's tasks module
    project_apps = {name.split(".")[0] for name in settings.INSTALLED_APPS if "." not in name}
    return {
        name: task
        for name, task in app.tasks.items()
        if task.__module__.split(".")[0] in project_apps
    }


def queue_of(name: str) -> str:
    return app.amqp.router.route({}, name)["queue"].name


def test_every_project_task_is_routed_by_name_to_its_intended_queue():
    tasks = project_tasks()
    # A new task must be given a queue here and in CELERY_TASK_ROUTES, knowingly.
    assert sorted(tasks) == sorted(INTENDED)
    assert {name: queue_of(name) for name in tasks} == INTENDED
    assert set(settings.CELERY_TASK_ROUTES) == set(INTENDED)


def test_a_burst_of_pdf_renders_never_shares_a_queue_with_the_sla_sweep_or_emails():
    pdf = {name for name, queue in INTENDED.items() if queue == "pdf"}
    assert queue_of("sla.tasks.sweep") not in {queue_of(name) for name in pdf}
    assert queue_of("notifications.tasks.send_email") not in {queue_of(name) for name in pdf}


def test_a_worker_started_without_queues_consumes_all_three():
    assert sorted(app.amqp.queues) == ["celery", "pdf", "sla"]
