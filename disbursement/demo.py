"""Demo data of the disbursement stage. It needs no configuration; history gets offers for
approved applications that have none (their PDFs are rendered by the pending-offer sweep)."""

from django.db import transaction


def seed() -> None:
    """Nothing to configure: the schedule methods are the product's repayment methods."""


def seed_history(applications) -> None:
    from disbursement.models import Offer
    from disbursement.services import offer_create

    for application in applications:
        if application.status != "approved":
            continue
        if Offer.objects.filter(application=application).exists():
            continue
        with transaction.atomic():
            offer_create(application=application)
