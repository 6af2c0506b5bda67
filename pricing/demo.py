"""Default pricing configuration: version 1 of the parameters, active (pricing.defaults)."""

from pricing.services import pricing_version_default_ensure


def seed() -> None:
    pricing_version_default_ensure()
