"""Demo data: consents and the simulated sources' answers for the demo applications under
investigation or in approval, so the workspace's "External data" panel has something to show
(some with bad news, as the simulated sources give it). Idempotent."""

import datetime

from django.db import transaction
from django.utils import timezone

from datasources import adapters
from datasources.models import Consent, Purpose, Source, SourceQuery
from datasources.services import _record_facts

DEMO_CASES = 12
# The simulated sources whatever the settings say: demo data never calls a real bureau.
SIMULATED = {
    "bureau": adapters.SimulatedBureau,
    "tax": adapters.SimulatedTax,
    "registry": adapters.SimulatedRegistry,
    "courts": adapters.SimulatedCourts,
}


def seed() -> None:
    """No configuration: the simulated adapters are the default (settings)."""


def seed_history(applications) -> None:
    from customers.models import CompanyBinding

    cases = [a for a in applications if a.status in ("investigation", "in_approval")]
    for application in cases[:DEMO_CASES]:
        if Consent.objects.filter(application=application).exists():
            continue
        binding = (
            CompanyBinding.objects.filter(company_id=application.company_id)
            .select_related("user")
            .first()
        )
        by = binding.user if binding else application.relationship_manager
        with transaction.atomic():
            consent = Consent.objects.create(
                application=application,
                scope=list(Source.values),
                channel=Consent.Channel.PORTAL if binding else Consent.Channel.SIGNED_FORM,
                valid_until=timezone.now() + datetime.timedelta(days=90),
            )
            consent.grant(by=by)
            consent.save()
            subject = adapters.subject_of(application)
            for source in Source.values:
                query = SourceQuery.objects.create(
                    application=application,
                    credit_code=subject.credit_code,
                    source=source,
                    adapter=f"datasources.adapters.{SIMULATED[source].__name__}",
                    consent=consent,
                    requested_by=application.investigator or application.relationship_manager,
                    purpose=Purpose.PRE_LOAN,
                    attempts=1,
                )
                answer = SIMULATED[source]().fetch(subject, timeout=10)
                query.arrive(answer=answer)
                query.save()
                _record_facts(query)
