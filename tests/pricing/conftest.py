import pytest

from tests.approvals.conftest import (  # noqa: F401
    _no_investigation_gates,
    _no_shared_queue_counts,
    in_approval,
    matrix,
)


@pytest.fixture(autouse=True)
def pricing_v1(db):
    """The active pricing version (a transactional test elsewhere flushes the one the
    migration seeded)."""
    from pricing.services import pricing_version_default_ensure

    return pricing_version_default_ensure()
