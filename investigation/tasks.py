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
