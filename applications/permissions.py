"""Who a person is to one loan application, as django-rules predicates `(user, application)`.

The segregation-of-duties rules are written with these once: the permission rules
(org.permissions), the transitions' duty rules (applications.effects) and the approval steps'
(approvals.permissions). Without an application they answer False (no relation to nothing).
This module imports no model, so org.permissions can build its rules from it.
"""

import rules
from django.apps import apps


def _is(user, user_id: int | None) -> bool:
    return user_id is not None and getattr(user, "pk", None) == user_id


@rules.predicate
def filed_it(user, application) -> bool:
    return application is not None and _is(user, application.filed_by_id)


@rules.predicate
def manages_it(user, application) -> bool:
    return application is not None and _is(user, application.relationship_manager_id)


@rules.predicate
def investigated_it(user, application) -> bool:
    return application is not None and _is(user, application.investigator_id)


@rules.predicate
def recorded_the_disbursement(user, application) -> bool:
    """The maker of the application's disbursement (maker-checker)."""
    if application is None or getattr(user, "pk", None) is None:
        return False
    disbursement = apps.get_model("disbursement", "Disbursement")
    return disbursement.objects.filter(application=application, maker_id=user.pk).exists()
