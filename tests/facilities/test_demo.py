"""The demo's revolving line: priced as the real path prices a facility (a scored application,
a build-up kept on the facility, a range from its target rate) and serviced on terms of its own
(overdue interest, prepayment), seeded through the demo's own stages."""

from io import StringIO

import pytest
from django.core.management import call_command

from facilities.models import Facility
from postloan.models import ServicingTerms
from postloan.payoff import servicing_terms_for

pytestmark = pytest.mark.django_db


def test_the_demo_facilities_are_priced_and_their_line_has_servicing_terms():
    call_command("seed_demo", applications=20, strict=True, stdout=StringIO(), stderr=StringIO())

    facilities = list(Facility.objects.select_related("application__product"))
    assert len(facilities) == 2
    for facility in facilities:
        pricing = facility.pricing
        assert pricing, "a demo facility keeps the build-up it was approved on"
        assert pricing["version"] >= 1
        assert "below_floor_reason" not in pricing  # proposed at its target rate
        assert facility.min_rate == facility.application.interest_rate
        assert facility.min_rate <= facility.max_rate == facility.application.product.max_rate
    drawn = [d for f in facilities for d in f.drawdowns.all()]
    assert drawn and all(d.pricing for d in drawn)

    line = facilities[0].application.product
    terms = ServicingTerms.objects.get(product=line)
    assert terms.overdue_surcharge_rate > 0 and terms.note_zh
    assert servicing_terms_for(line) == terms
    # A second run changes nothing.
    call_command("seed_demo", applications=20, strict=True, stdout=StringIO(), stderr=StringIO())
    assert Facility.objects.count() == 2
    assert ServicingTerms.objects.filter(product=line).count() == 1
