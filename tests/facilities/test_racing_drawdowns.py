"""Racing drawdowns never together exceed the limit: each request locks the facility row."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from common.errors import InvalidInput
from facilities.models import Drawdown
from facilities.selectors import facility_availability
from facilities.services import drawdown_request


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("round_", range(3))
def test_racing_drawdowns_never_exceed_the_limit(staff, make_facility, round_):
    facility = make_facility(amount="1000000.00")
    threads_count = 6
    barrier = threading.Barrier(threads_count)
    outcomes: list[str] = []

    def draw():
        try:
            barrier.wait(timeout=10)
            drawdown_request(
                facility_id=facility.pk,
                actor=staff["rm"],
                amount=Decimal("300000.00"),
                term_months=6,
            )
            outcomes.append("drawn")
        except InvalidInput as exc:
            assert "amount" in exc.details
            outcomes.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=draw) for _ in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert sorted(outcomes) == ["drawn"] * 3 + ["refused"] * 3
    drawn = Drawdown.objects.filter(facility=facility, status="approved")
    assert sum(d.amount for d in drawn) == Decimal("900000.00")
    assert facility_availability(facility=facility).available == Decimal("100000.00")
