"""Reads of the external data: consents in force, the calls made, the facts, the flags."""

import datetime

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone

from datasources import breaker, checks
from datasources.models import Consent, DataRoute, LoanRequery, Source, SourceFact, SourceQuery


def consent_for(*, application, source: str, now=None) -> Consent | None:
    """The consent in force that covers `source` for the application (the latest given)."""
    now = now or timezone.now()
    for consent in Consent.objects.filter(
        application=application, status=Consent.Status.GRANTED, valid_until__gt=now
    ).order_by("-granted_at", "-id"):
        if source in consent.scope:
            return consent
    return None


def consents_of(*, application) -> QuerySet[Consent]:
    return Consent.objects.filter(application=application).select_related(
        "granted_by", "revoked_by"
    )


def queries_of(*, application) -> QuerySet[SourceQuery]:
    return SourceQuery.objects.filter(application=application).select_related(
        "requested_by", "consent"
    )


def facts_of(*, application) -> QuerySet[SourceFact]:
    return SourceFact.objects.filter(application=application).select_related("query", "decided_by")


def data_route_of(*, application) -> DataRoute | None:
    """The application's data-driven route, if it took one."""
    return DataRoute.objects.filter(application=application).first()


def data_route_reasons_text(reasons) -> str:
    """The reasons of a route, worded in the active language."""
    from datasources.texts import DATA_ROUTE_REASONS

    return " ".join(str(DATA_ROUTE_REASONS.get(code, code)) for code in reasons or [])


def fresh_answer(*, credit_code: str, source: str, now=None) -> SourceQuery | None:
    """An answer from the source about the company, younger than the cache time, to reuse.
    The original record is what a reuse points at (never a reuse of a reuse)."""
    now = now or timezone.now()
    since = now - datetime.timedelta(hours=settings.LOANFLOW_DATASOURCE_CACHE_HOURS)
    return (
        SourceQuery.objects.filter(
            credit_code=credit_code,
            source=source,
            status=SourceQuery.Status.ARRIVED,
            reused_from__isnull=True,
            answered_at__gte=since,
        )
        .order_by("-answered_at", "-id")
        .first()
    )


def latest_answers(*, application) -> list[dict]:
    """The latest answer that arrived from each source for the application."""
    rows = []
    for source in Source.values:
        query = (
            SourceQuery.objects.filter(
                application=application, source=source, status=SourceQuery.Status.ARRIVED
            )
            .order_by("-answered_at", "-id")
            .first()
        )
        if query is not None:
            rows.append(
                {
                    "source": source,
                    "query_id": query.pk,
                    "answered_at": query.answered_at.isoformat(),
                    "answer": query.answer,
                }
            )
    return rows


def source_flags(*, application, policy) -> list[dict]:
    """The flags the sources' latest answers raise (datasources.checks), in the shape the
    investigation's scoring keeps them; guarantees given to others are measured against the
    policy's per-guarantor limit."""
    return checks.flags_from(
        latest_answers(application=application),
        guarantee_limit=policy.guarantor_exposure_limit,
        today=timezone.localdate(),
    )


def source_panel(*, application) -> list[dict]:
    """Per source: the consent covering it, its latest query and whether the source is
    resting behind its circuit breaker."""
    queries = list(queries_of(application=application))
    now = timezone.now()
    rows = []
    for value, label in Source.choices:
        latest = next((q for q in queries if q.source == value), None)
        rows.append(
            {
                "source": value,
                "label": label,
                "consent": consent_for(application=application, source=value, now=now),
                "latest": latest,
                "breaker_open_until": breaker.open_until(value),
            }
        )
    return rows


def requeries_needing_consent(*, application=None) -> QuerySet[LoanRequery]:
    """Active loans' sources the nightly re-query could not ask for want of a consent in force
    (all loans, or the application's), the longest-waiting first."""
    rows = LoanRequery.objects.filter(
        consent_missing_since__isnull=False, loan__status="active"
    ).select_related("loan__application")
    if application is not None:
        rows = rows.filter(loan__application=application)
    return rows.order_by("consent_missing_since", "id")
