import pytest

from applications.models import LoanApplication
from complaints.defaults import DEFAULT_CATEGORIES
from complaints.models import ComplaintCategory
from tests.factories import ApplicationFactory


@pytest.fixture
def categories(db) -> dict[str, ComplaintCategory]:
    """The default categories (a transactional test elsewhere may have flushed the ones the
    migration seeded)."""
    for order, (code, name, name_zh) in enumerate(DEFAULT_CATEGORIES):
        ComplaintCategory.objects.get_or_create(
            code=code, defaults={"name": name, "name_zh": name_zh, "order": order}
        )
    return {c.code: c for c in ComplaintCategory.objects.all()}


@pytest.fixture
def application(company, product, staff) -> LoanApplication:
    """The owner's company's application under investigation by alice, its relationship
    manager."""
    return ApplicationFactory(
        company=company,
        product=product,
        status="investigation",
        filed_by=staff["rm"],
        relationship_manager=staff["rm"],
        investigator=staff["rm"],
    )
