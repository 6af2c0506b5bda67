import pytest

from sla.calendar import clear_cache


@pytest.fixture(autouse=True)
def _fresh_calendar_cache():
    # Rolled-back test transactions send no post_delete: never reuse a calendar across tests.
    clear_cache()
    yield
    clear_cache()
