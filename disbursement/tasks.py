from celery import shared_task


@shared_task(acks_late=True)
def render_offer_pdf(offer_id: int) -> str:
    from disbursement.services import offer_render

    offer = offer_render(offer_id=offer_id)
    return offer.status if offer else "missing"


@shared_task
def render_pending_offers() -> int:
    """Sweep: render offers left pending (e.g. the broker was down at approval)."""
    from disbursement.services import offer_render_pending

    return offer_render_pending()
