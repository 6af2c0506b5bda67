# Import the Celery app so that `.delay()` from Django uses the configured broker,
# not Celery's default amqp://localhost.
from .celery import app as celery_app

__all__ = ["celery_app"]
