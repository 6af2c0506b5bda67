"""Demo configuration of the analytics app: default balanced-scorecard targets, and the stage
visits of the demo applications rebuilt from their (back-dated) audit trail."""

from decimal import Decimal

from analytics.models import ScorecardMetric as M
from analytics.scorecard import METRIC_FIGURES

P = M.Perspective
HIGHER, LOWER = M.Direction.HIGHER, M.Direction.LOWER

DEFAULT_METRICS = [
    # perspective, figure, target, direction, weight, unit
    (P.FINANCIAL, "portfolio_balance", Decimal("10000000"), HIGHER, Decimal("2"), "CNY"),
    (P.FINANCIAL, "yield_pct", Decimal("4.5"), HIGHER, Decimal("1"), "%"),
    (P.FINANCIAL, "margin_pct", Decimal("2"), HIGHER, Decimal("2"), "%"),
    (P.FINANCIAL, "npl_ratio", Decimal("0.02"), LOWER, Decimal("2"), ""),
    (P.FINANCIAL, "provisions", Decimal("500000"), LOWER, Decimal("1"), "CNY"),
    (P.FINANCIAL, "disbursed_amount", Decimal("5000000"), HIGHER, Decimal("1"), "CNY"),
    (P.CUSTOMER, "sme_customers", Decimal("20"), HIGHER, Decimal("2"), ""),
    (P.CUSTOMER, "online_share", Decimal("0.3"), HIGHER, Decimal("1"), ""),
    (P.CUSTOMER, "financing_per_customer", Decimal("500000"), HIGHER, Decimal("1"), "CNY"),
    (P.CUSTOMER, "satisfaction_score", Decimal("4"), HIGHER, Decimal("2"), ""),
    (P.CUSTOMER, "survey_response_rate", Decimal("0.3"), HIGHER, Decimal("1"), ""),
    (P.CUSTOMER, "complaints", Decimal("0"), LOWER, Decimal("1"), ""),
    (P.CUSTOMER, "complaints_per_100_customers", Decimal("2"), LOWER, Decimal("1"), ""),
    # The regulator gives a bank 15 days to answer a complaint; the bank aims at five.
    (P.CUSTOMER, "complaint_hours_median", Decimal("120"), LOWER, Decimal("1"), "h"),
    (P.INTERNAL_PROCESS, "decision_hours_median", Decimal("72"), LOWER, Decimal("1"), "h"),
    (P.INTERNAL_PROCESS, "approval_rate", Decimal("0.6"), HIGHER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "submitted_to_disbursed", Decimal("0.5"), HIGHER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "sla_breach_rate", Decimal("0.1"), LOWER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "first_time_right", Decimal("0.8"), HIGHER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "rework_rate", Decimal("0.15"), LOWER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "overdue_tasks", Decimal("0"), LOWER, Decimal("1"), ""),
    (P.INTERNAL_PROCESS, "fast_track_share", Decimal("0.2"), HIGHER, Decimal("1"), ""),
    (P.LEARNING_GROWTH, "staff_per_stage", Decimal("2"), HIGHER, Decimal("1"), ""),
    (P.LEARNING_GROWTH, "training_hours_per_person", Decimal("8"), HIGHER, Decimal("1"), "h"),
    (P.LEARNING_GROWTH, "product_changes", Decimal("1"), HIGHER, Decimal("1"), ""),
    (P.LEARNING_GROWTH, "decisions_per_staff", Decimal("10"), HIGHER, Decimal("1"), ""),
    (P.LEARNING_GROWTH, "external_data_share", Decimal("0.5"), HIGHER, Decimal("1"), ""),
]


def seed() -> None:
    from django.utils import translation

    for order, (perspective, figure, target, direction, weight, unit) in enumerate(DEFAULT_METRICS):
        label = METRIC_FIGURES[figure][0]
        with translation.override("en"):
            name = str(label)
        with translation.override("zh-hans"):
            name_zh = str(label)
        M.objects.get_or_create(
            code=figure,
            defaults={
                "name": name,
                "name_zh": name_zh if name_zh != name else "",
                "perspective": perspective,
                "figure": figure,
                "target": target,
                "direction": direction,
                "weight": weight,
                "unit": unit,
                "order": order,
            },
        )


def seed_history(applications) -> None:
    """Rebuild the stage visits of the demo applications from their audit trail (seed_demo
    writes back-dated audit rows, so the visits recorded live would carry today's times)."""
    from analytics.services import stage_visits_rebuild

    ids = [getattr(a, "pk", a) for a in applications]
    for start in range(0, len(ids), 1000):
        stage_visits_rebuild(application_ids=ids[start : start + 1000])
