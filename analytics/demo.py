"""Demo configuration of the analytics app: default balanced-scorecard targets, and the stage
visits of the demo applications rebuilt from their (back-dated) audit trail."""

from decimal import Decimal

from analytics.models import ScorecardMetric as M
from analytics.models import ScorecardTarget as T

P = T.Perspective
AT_LEAST, AT_MOST = T.Direction.AT_LEAST, T.Direction.AT_MOST

DEFAULT_TARGETS = [
    # perspective, figure, target, direction
    (P.FINANCIAL, M.PORTFOLIO_BALANCE, Decimal("10000000"), AT_LEAST),
    (P.FINANCIAL, M.NPL_RATIO, Decimal("0.02"), AT_MOST),
    (P.FINANCIAL, M.DISBURSED_AMOUNT, Decimal("5000000"), AT_LEAST),
    (P.CUSTOMER, M.DECISION_HOURS_MEDIAN, Decimal("72"), AT_MOST),
    (P.CUSTOMER, M.APPROVAL_RATE, Decimal("0.6"), AT_LEAST),
    (P.CUSTOMER, M.SUBMITTED_TO_DISBURSED, Decimal("0.5"), AT_LEAST),
    (P.CUSTOMER, M.SATISFACTION_SCORE, Decimal("4"), AT_LEAST),
    (P.CUSTOMER, M.SURVEY_RESPONSE_RATE, Decimal("0.3"), AT_LEAST),
    (P.INTERNAL_PROCESS, M.SLA_BREACH_RATE, Decimal("0.1"), AT_MOST),
    (P.INTERNAL_PROCESS, M.FIRST_TIME_RIGHT, Decimal("0.8"), AT_LEAST),
    (P.INTERNAL_PROCESS, M.REWORK_RATE, Decimal("0.15"), AT_MOST),
    (P.INTERNAL_PROCESS, M.OVERDUE_TASKS, Decimal("0"), AT_MOST),
    (P.LEARNING_GROWTH, M.FAST_TRACK_SHARE, Decimal("0.2"), AT_LEAST),
    (P.LEARNING_GROWTH, M.ONLINE_SHARE, Decimal("0.3"), AT_LEAST),
    (P.LEARNING_GROWTH, M.DECISIONS_PER_STAFF, Decimal("10"), AT_LEAST),
]


def seed() -> None:
    for order, (perspective, metric, target, direction) in enumerate(DEFAULT_TARGETS):
        T.objects.get_or_create(
            metric=metric,
            defaults={
                "perspective": perspective,
                "target": target,
                "direction": direction,
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
