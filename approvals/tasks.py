"""Thin Celery entry points over approvals.services."""

from celery import shared_task


@shared_task(name="approvals.tasks.fast_track_decide")
def fast_track_decide(application_id: int) -> bool:
    from approvals.services import approval_fast_track_decide

    return approval_fast_track_decide(application_id=application_id)


@shared_task(name="approvals.tasks.release_stale_claims")
def release_stale_claims() -> dict:
    """Every minute (beat): stale claims back to their queue, and fast-track decisions that
    were never taken (broker outage)."""
    from approvals.services import approvals_sweep

    return approvals_sweep()


@shared_task(name="approvals.tasks.announce_task", ignore_result=True)
def announce_task(task_id: int) -> int:
    """After the commit that opened a task: its queue hears of it, or the branch head hears
    why nobody may take it."""
    from approvals.services import task_announce

    return task_announce(task_id=task_id)
