from applications.models import Product
from investigation import demo
from investigation.models import InvestigationPolicy, Questionnaire, Scorecard
from tests.factories import ApplicationFactory


def test_the_demo_configuration_is_idempotent_and_scores_past_applications(db):
    demo.seed()
    demo.seed()
    assert set(Product.objects.values_list("code", flat=True)) >= {"SME-WC", "SME-EQ", "SME-FT"}
    assert Questionnaire.objects.filter(product__code="SME-EQ", version=1).count() == 1
    assert Scorecard.objects.get(version=1).factors.count() == len(demo.SCORECARD_V1)
    assert InvestigationPolicy.objects.count() == 1
    scored = ApplicationFactory(status="in_approval")
    fresh = ApplicationFactory(status="submitted")
    demo.seed_history([scored, fresh])
    scored.refresh_from_db()
    fresh.refresh_from_db()
    assert scored.risk_grade in "ABCD" and scored.route_recommendation
    assert fresh.risk_grade == ""
