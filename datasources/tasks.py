from celery import shared_task

from datasources import services


@shared_task(name="datasources.fetch_source_answer", acks_late=True)
def fetch_source_answer(query_id: int) -> str:
    """One attempt at an external-data query (arrived, retry, failed, breaker_open, skipped)."""
    return services.source_answer_fetch(query_id=query_id)


@shared_task(name="datasources.advance_data_route", acks_late=True)
def advance_data_route(application_id: int) -> str:
    """The data-driven route of an online submission once its sources settled (sent,
    normal_route, waiting, skipped)."""
    return services.data_route_advance(application_id=application_id)


@shared_task(name="datasources.requeue_due_queries")
def requeue_due_queries() -> int:
    """Every minute (beat): queries due for an attempt whose enqueue was lost or delayed, and
    the data-driven routes whose answers are all in but whose task was lost."""
    return services.source_queries_requeue_due() + services.data_routes_advance_due()


@shared_task(name="datasources.requery_active_loans")
def requery_active_loans() -> dict:
    """Nightly (beat): the sources asked again about active loans due by their class."""
    return services.loans_requery()
