import os

from celery import Celery, signals

from loanflow import observability

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loanflow.settings")

app = Celery("loanflow")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers and beat log through settings.LOGGING; a task's lines name the request that enqueued it.
signals.setup_logging.connect(observability.celery_setup_logging, weak=False)
signals.before_task_publish.connect(observability.task_publish_add_request_id, weak=False)
signals.task_prerun.connect(observability.task_prerun_bind_context, weak=False)
signals.task_postrun.connect(observability.task_postrun_clear_context, weak=False)
