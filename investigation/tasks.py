from celery import shared_task

from investigation import services


@shared_task(name="investigation.render_credit_memo", acks_late=True)
def render_credit_memo(memo_id: int) -> str:
    """Render one credit memo (pending -> ready, or failed with the error kept)."""
    memo = services.memo_render(memo_id=memo_id)
    return memo.status if memo else "missing"


@shared_task(name="investigation.requeue_pending_memos")
def requeue_pending_memos() -> int:
    """Every 5 minutes (beat): re-enqueue memo renders lost to a broker outage."""
    return services.memo_requeue_pending()


@shared_task(name="investigation.data_fast_track", acks_late=True)
def data_fast_track(application_id: int) -> str:
    """The data-driven fast track once the sources have answered (sent, normal_route,
    waiting, skipped)."""
    return services.data_fast_track_run(application_id=application_id)


@shared_task(name="investigation.data_fast_track_sweep")
def data_fast_track_sweep() -> int:
    """Every minute (beat): the data-driven fast track for cases whose task was lost."""
    return services.data_fast_track_sweep()
