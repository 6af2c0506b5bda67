"""Default pricing configuration: version 1 of the parameters, active (pricing.defaults).

The demo bank also lets its approvers approve a rate below the floor (with the reason the
decision asks for): the product's default leaves that authority to the committee and the
risk officers (org.roles), which would leave the demo's below-floor cases on approver-only
routes with nobody to approve them. A bank sets this in the admin (Groups)."""

from django.contrib.auth.models import Group, Permission

from org.roles import Role
from pricing.services import pricing_version_default_ensure


def seed() -> None:
    pricing_version_default_ensure()
    approvers, _created = Group.objects.get_or_create(name=Role.APPROVER)
    approvers.permissions.add(
        Permission.objects.get(content_type__app_label="pricing", codename="approve_below_floor")
    )
