"""Writes of the external data: consent given and revoked, queries asked (never without a
consent in force) and answered by the worker, facts confirmed or contradicted. Each change is
atomic with the application row locked, and audited; calls to a source happen in a Celery task
enqueued after commit, never in a request."""

import datetime
import logging

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, Subquery, When
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone
from django.utils.translation import gettext as _

from applications.models import FINAL_STATUSES, LoanApplication
from applications.selectors import applicant_company_id, application_get
from audit.services import audit_record
from common.errors import Conflict, Forbidden, InvalidInput, NotFound
from common.queue import PUBLISH_RETRY_POLICY, enqueue_on_commit
from datasources import adapters, breaker, checks
from datasources.models import (
    Consent,
    DataRoute,
    LoanRequery,
    Purpose,
    RequeryInterval,
    Source,
    SourceFact,
    SourceQuery,
)
from datasources.selectors import consent_for, data_route_reasons_text, fresh_answer
from org.roles import primary_role
from org.selectors import is_sme_owner, is_staff_member
from postloan.models import Loan

logger = logging.getLogger(__name__)

MAX_CONSENT_DAYS = 366


def _audit(*, action: str, actor, application, subject, data: dict, comment: str = "") -> None:
    audit_record(
        action=action,
        actor=actor,
        actor_role=primary_role(actor) if actor is not None else "",
        application=application,
        kind="action",
        subject_type=f"datasources.{subject._meta.model_name}",
        subject_id=subject.pk,
        comment=comment,
        data=data,
    )


def _case_officer_application(*, actor, application_id: int) -> LoanApplication:
    """The application, locked, if `actor` is its relationship manager or investigator and it
    is still open."""
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not is_staff_member(actor):
        raise NotFound()
    if getattr(actor, "pk", None) not in (
        application.relationship_manager_id,
        application.investigator_id,
    ):
        raise Forbidden(
            _("Only the application's relationship manager or investigator may do this."),
            code="not_case_officer",
        )
    if application.status in FINAL_STATUSES:
        raise Conflict(_("The application is closed."), code="application_closed")
    return application


def _owner_application(*, actor, application_id: int) -> LoanApplication:
    """The application, locked, if `actor` is an owner of its company."""
    application = application_get(user=actor, pk=application_id, for_update=True)
    if not is_sme_owner(actor) or application.company_id != applicant_company_id(actor):
        raise NotFound()
    if application.status in FINAL_STATUSES:
        raise Conflict(_("The application is closed."), code="application_closed")
    return application


def _clean_scope(scope) -> list[str]:
    scope = sorted(set(scope or []))
    if not scope:
        raise InvalidInput(details={"scope": [_("Choose at least one source.")]})
    unknown = [s for s in scope if s not in Source.values]
    if unknown:
        raise InvalidInput(details={"scope": [_("Unknown source.")]})
    return scope


def _grant(*, consent: Consent, actor, application) -> Consent:
    consent.grant(by=actor)
    consent.save()
    _audit(
        action="datasource_consent_grant",
        actor=actor,
        application=application,
        subject=consent,
        data={
            "scope": consent.scope,
            "channel": consent.channel,
            "valid_until": consent.valid_until.isoformat(),
        },
    )
    return consent


@transaction.atomic
def consent_grant_online(*, actor, application_id: int, scope, days: int | None = None) -> Consent:
    """The owner authorises the bank, in the portal, to query the sources in `scope` for this
    application, for `days` (LOANFLOW_CONSENT_DAYS by default)."""
    application = _owner_application(actor=actor, application_id=application_id)
    days = days or settings.LOANFLOW_CONSENT_DAYS
    if not 1 <= days <= MAX_CONSENT_DAYS:
        raise InvalidInput(details={"days": [_("Between 1 and 366 days.")]})
    consent = Consent(
        application=application,
        scope=_clean_scope(scope),
        channel=Consent.Channel.PORTAL,
        valid_until=timezone.now() + datetime.timedelta(days=days),
    )
    consent.save()
    return _grant(consent=consent, actor=actor, application=application)


@transaction.atomic
def application_submit_online(
    *, actor, application_id: int, consent_scope=None, consent_days: int | None = None
) -> LoanApplication:
    """The owner sends the draft to the bank, giving in the same step the consent to the
    checks (`consent_scope`, for `consent_days`) when they have not given one in force for
    those sources yet: on a product with the data-driven route, the system then asks the
    sources at once (data_route_on_submit). One transaction: a refused submission gives no
    consent."""
    from applications.services import application_transition

    if consent_scope:
        application = _owner_application(actor=actor, application_id=application_id)
        now = timezone.now()
        scope = _clean_scope(consent_scope)
        if any(consent_for(application=application, source=s, now=now) is None for s in scope):
            consent_grant_online(
                actor=actor, application_id=application_id, scope=scope, days=consent_days
            )
    return application_transition(application_id=application_id, transition="submit", actor=actor)


@transaction.atomic
def consent_record_signed(
    *, actor, application_id: int, scope, valid_until: datetime.datetime, file
) -> Consent:
    """The relationship manager records the consent form the applicant signed, with its scan
    (PDF, JPEG or PNG)."""
    from intake.services import JPEG, PDF, PNG, sniff_file_kind

    application = _case_officer_application(actor=actor, application_id=application_id)
    scope = _clean_scope(scope)
    now = timezone.now()
    if valid_until <= now or valid_until > now + datetime.timedelta(days=MAX_CONSENT_DAYS):
        raise InvalidInput(
            details={"valid_until": [_("A date in the future, within a year from today.")]}
        )
    if file is None or sniff_file_kind(file) not in (PDF, JPEG, PNG):
        raise InvalidInput(details={"file": [_("Upload the signed form as PDF, JPEG or PNG.")]})
    consent = Consent(
        application=application,
        scope=scope,
        channel=Consent.Channel.SIGNED_FORM,
        valid_until=valid_until,
    )
    consent.signed_form.save(f"consent-{application.pk}.pdf", file, save=False)
    consent.save()
    return _grant(consent=consent, actor=actor, application=application)


@transaction.atomic
def consent_revoke(*, actor, application_id: int, consent_id: int, reason: str = "") -> Consent:
    """The owner withdraws a consent (portal), or the relationship manager records that they
    did; queries already answered stay on the record, no new one runs under it."""
    if is_sme_owner(actor):
        application = _owner_application(actor=actor, application_id=application_id)
    else:
        application = _case_officer_application(actor=actor, application_id=application_id)
    try:
        consent = Consent.objects.select_for_update().get(pk=consent_id, application=application)
    except Consent.DoesNotExist:
        raise NotFound() from None
    if consent.status != Consent.Status.GRANTED:
        raise Conflict(_("This consent is not in force."), code="consent_not_in_force")
    consent.revoke(by=actor, reason=reason)
    consent.save()
    _audit(
        action="datasource_consent_revoke",
        actor=actor,
        application=application,
        subject=consent,
        data={"scope": consent.scope, "reason": consent.revoke_reason},
    )
    return consent


def _refusal(*, application, source: str) -> str:
    """Why no query may run: the consent was never given, was revoked, or has expired."""
    label = Source(source).label
    latest = (
        Consent.objects.filter(application=application, scope__contains=[source])
        .order_by("-created_at", "-id")
        .first()
    )
    if latest is None:
        return _(
            "%(source)s: the applicant has not consented. Ask the owner to give consent in the "
            "portal, or record the consent form they signed."
        ) % {"source": label}
    if latest.status == Consent.Status.REVOKED:
        return _("%(source)s: the applicant revoked their consent on %(date)s.") % {
            "source": label,
            "date": timezone.localtime(latest.revoked_at).date().isoformat(),
        }
    return _("%(source)s: the applicant's consent expired on %(date)s.") % {
        "source": label,
        "date": timezone.localtime(latest.valid_until).date().isoformat(),
    }


def _record_facts(query: SourceQuery) -> None:
    """What an arrived answer gives: the facts that pre-fill the investigation; for a
    post-loan re-query, the early-warning alerts of its new bad news instead."""
    if query.purpose == Purpose.POST_LOAN and _post_loan_news(query):
        return
    SourceFact.objects.bulk_create(
        [
            SourceFact(
                application_id=query.application_id,
                query=query,
                source=query.source,
                key=key,
                value=value[:300],
                observed_at=query.answered_at,
            )
            for key, value in checks.facts_from(query.source, query.answer or {})
        ]
    )
    _data_fast_track_after_commit(query)


def _post_loan_news(query: SourceQuery) -> bool:
    """A post-loan answer about a loan: the bad news it brings that the previous answer from
    the source for the application did not have (datasources.checks.news) raises an
    early-warning alert per kind, not again while one is open, with the evidence (source,
    query, the answer's fields before and after). False when the application has no loan."""
    from postloan.services import alert_raise_on_event

    loan = Loan.objects.filter(application_id=query.application_id).first()
    if loan is None:
        return False
    previous = (
        SourceQuery.objects.filter(
            application_id=query.application_id,
            source=query.source,
            status=SourceQuery.Status.ARRIVED,
            answered_at__lte=query.answered_at,
        )
        .exclude(pk=query.pk)
        .order_by("-answered_at", "-id")
        .first()
    )
    for finding in checks.news(query.source, previous.answer if previous else None, query.answer):
        alert_raise_on_event(
            loan=loan,
            kind=finding["kind"],
            evidence={
                "source": query.source,
                "query": query.pk,
                "answered_at": query.answered_at.isoformat(),
                "previous_query": previous.pk if previous else None,
                "previous_answered_at": previous.answered_at.isoformat() if previous else None,
                "before": finding["before"],
                "after": finding["after"],
                "records": finding["records"],
            },
            action="datasource_bad_news",
        )
    return True


def _data_fast_track_after_commit(query: SourceQuery) -> None:
    """An answer arrived (or a query failed for good): for a product with the data-driven
    fast track, the system takes its look once all the sources have answered, after commit:
    at submission (data_route_advance) or under investigation
    (investigation.services.data_fast_track_run)."""
    application = query.application
    if not application.product.data_fast_track:
        return
    if application.status == "submitted":
        from datasources.tasks import advance_data_route

        if DataRoute.objects.filter(
            application=application, status=DataRoute.Status.WAITING
        ).exists():
            enqueue_on_commit(advance_data_route, application.pk)
        return
    if application.status != "investigation" or query.status != SourceQuery.Status.ARRIVED:
        return
    from investigation.tasks import data_fast_track

    enqueue_on_commit(data_fast_track, application.pk)


def _enqueue_fetch(query_id: int, countdown: int = 0) -> None:
    """After commit; a publish the broker refuses is logged, and the every-minute sweep
    (source_queries_requeue_due) finds the query due."""
    from datasources.tasks import fetch_source_answer  # the tasks module imports this one

    if not countdown:
        enqueue_on_commit(fetch_source_answer, query_id)
        return

    def publish() -> None:
        try:
            fetch_source_answer.apply_async(
                args=(query_id,), countdown=countdown, retry=True, retry_policy=PUBLISH_RETRY_POLICY
            )
        except Exception as exc:  # noqa: BLE001 - any broker error
            logger.warning("Could not enqueue the retry of query %s: %s", query_id, exc)

    transaction.on_commit(publish)


@transaction.atomic
def source_query_request(
    *, actor, application_id: int, sources, purpose: str = Purpose.PRE_LOAN
) -> list[SourceQuery]:
    """Ask the sources about the applicant: refused as a whole (409, with each reason) unless a
    consent in force covers every source asked. A fresh answer about the company is reused;
    otherwise the call is queued for the worker, after commit."""
    application = _case_officer_application(actor=actor, application_id=application_id)
    sources = _clean_scope(sources)
    if purpose not in Purpose.values:
        raise InvalidInput(details={"purpose": [_("Unknown purpose.")]})
    now = timezone.now()
    consents = {s: consent_for(application=application, source=s, now=now) for s in sources}
    refused = [s for s, consent in consents.items() if consent is None]
    if refused:
        reasons = [_refusal(application=application, source=s) for s in refused]
        raise Conflict(" ".join(reasons), code="no_consent", missing=reasons)
    return _queries_create(
        application=application,
        consents=consents,
        actor=actor,
        purpose=purpose,
        now=now,
        trigger="case_officer",
    )


def _queries_create(
    *, application, consents: dict, actor, purpose: str, now, trigger: str
) -> list[SourceQuery]:
    """One query per source under its consent (`consents`: source -> Consent), by `actor`
    (None: the system), each audited with who asked, why (purpose, trigger) and the consent. A
    fresh answer about the company is reused; otherwise the call is queued after commit."""
    credit_code = application.company.credit_code
    queries = []
    for source, consent in consents.items():
        query = SourceQuery.objects.create(
            application=application,
            credit_code=credit_code,
            source=source,
            adapter=settings.LOANFLOW_DATASOURCE_ADAPTERS[source],
            consent=consent,
            requested_by=actor,
            purpose=purpose,
            requested_at=now,
        )
        cached = fresh_answer(credit_code=credit_code, source=source, now=now)
        if cached is not None:
            query.arrive(answer=cached.answer, reused_from=cached)
            query.save()
            _record_facts(query)
        else:
            _enqueue_fetch(query.pk)
        _audit(
            action="datasource_query",
            actor=actor,
            application=application,
            subject=query,
            data={
                "source": source,
                "purpose": purpose,
                "trigger": trigger,
                "consent_id": query.consent_id,
                "reused_from": cached.pk if cached else None,
            },
        )
        queries.append(query)
    return queries


def _backoff_seconds(attempts: int) -> int:
    return settings.LOANFLOW_DATASOURCE_BACKOFF_SECONDS * 2 ** max(attempts - 1, 0)


def source_answer_fetch(*, query_id: int) -> str:
    """One attempt at a pending query (the worker's task). Claims it, calls the source outside
    any transaction (bounded by the timeout), then records the answer, or the failure: a retry
    after a backoff that doubles, failed after the last attempt. While the source's circuit
    breaker is open the source is not called; the query waits until it closes. Returns what
    happened: arrived, retry, failed, breaker_open, no_consent (revoked or expired while the
    call waited: the source is not asked), or skipped."""
    now = timezone.now()
    query = (
        SourceQuery.objects.filter(pk=query_id)
        .select_related("application__company", "consent")
        .first()
    )
    if query is None or query.status != SourceQuery.Status.PENDING:
        return "skipped"
    if not query.consent.covers(query.source, now):
        # Revoked or expired while the call waited: the source is not asked.
        with transaction.atomic():
            query = SourceQuery.objects.select_for_update().get(pk=query.pk)
            if query.status != SourceQuery.Status.PENDING:
                return "skipped"
            query.fail(error="consent no longer in force")
            query.save()
            _audit(
                action="datasource_failed",
                actor=None,
                application=query.application,
                subject=query,
                data={"source": query.source, "error": "consent no longer in force"},
            )
        return "no_consent"
    resting_until = breaker.open_until(query.source)
    if resting_until is not None:
        SourceQuery.objects.filter(pk=query.pk, status=SourceQuery.Status.PENDING).update(
            next_attempt_at=resting_until, error=_("The source is resting after failures.")
        )
        return "breaker_open"
    timeout = settings.LOANFLOW_DATASOURCE_TIMEOUT_SECONDS
    # Claim the attempt: a second worker (or the sweep) finds it not yet due.
    lease = now + datetime.timedelta(seconds=timeout + 30)
    from django.db.models import F

    claimed = SourceQuery.objects.filter(
        pk=query.pk, status=SourceQuery.Status.PENDING, next_attempt_at__lte=now
    ).update(attempts=F("attempts") + 1, next_attempt_at=lease)
    if claimed != 1:
        return "skipped"
    subject = adapters.subject_of(query.application, as_of=timezone.localdate())
    try:
        answer = adapters.adapter_for(query.source).fetch(subject, timeout=timeout)
        error = ""
    except adapters.SourceUnavailable as exc:
        answer, error = None, f"{type(exc).__name__}: {exc}"
    if error:
        breaker.record_failure(query.source)
    else:
        breaker.record_success(query.source)
    with transaction.atomic():
        LoanApplication.objects.select_for_update().filter(pk=query.application_id).first()
        query = SourceQuery.objects.select_for_update().get(pk=query.pk)
        if query.status != SourceQuery.Status.PENDING:
            return "skipped"
        if not error:
            query.arrive(answer=answer)
            query.save()
            _record_facts(query)
            _audit(
                action="datasource_answer",
                actor=None,
                application=query.application,
                subject=query,
                data={"source": query.source, "attempts": query.attempts},
            )
            return "arrived"
        if query.attempts >= settings.LOANFLOW_DATASOURCE_MAX_ATTEMPTS:
            query.fail(error=error)
            query.save()
            _audit(
                action="datasource_failed",
                actor=None,
                application=query.application,
                subject=query,
                data={"source": query.source, "attempts": query.attempts, "error": error[:300]},
            )
            _data_fast_track_after_commit(query)
            return "failed"
        delay = _backoff_seconds(query.attempts)
        query.error = error[:2000]
        query.next_attempt_at = timezone.now() + datetime.timedelta(seconds=delay)
        query.save(update_fields=["error", "next_attempt_at"])
        _enqueue_fetch(query.pk, countdown=delay)
        return "retry"


def source_queries_requeue_due(*, limit: int = 200) -> int:
    """Enqueue pending queries due for an attempt (a retry's countdown lost with the broker, a
    breaker closed again). Every minute (beat)."""
    ids = list(
        SourceQuery.objects.filter(
            status=SourceQuery.Status.PENDING, next_attempt_at__lte=timezone.now()
        )
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:limit]
    )
    for pk in ids:
        _enqueue_fetch(pk)
    return len(ids)


# --- The data-driven route: asked at the online submission, continued as the answers arrive ---


def data_route_fall_back(
    *, route: DataRoute, application, reasons: list[str], data: dict | None = None
) -> None:
    """The route falls back to the normal route with its reasons, recorded and audited (the
    relationship manager reads them in the case's trail and the external-data section). In
    the caller's transaction, the route locked."""
    route.fall_back(reasons=reasons)
    route.save()
    audit_record(
        action="data_fast_track_refused",
        actor=None,
        actor_role="system",
        application=application,
        kind="action",
        subject_type="datasources.dataroute",
        subject_id=route.pk,
        comment=data_route_reasons_text(reasons)[:2000],
        data={"reasons": list(reasons), **(data or {})},
    )


def data_route_on_submit(*, application: LoanApplication, actor) -> DataRoute | None:
    """At the owner's online submission, in the submit's transaction (applications.effects):
    for a product that allows the data-driven route, the system asks every source the
    owner's consent covers (after commit, in Celery) and the route waits for the answers.
    Without a consent in force nothing is asked and the route falls back with the reasons.
    Returns the route, or None when the application does not take it (product, channel, a
    filing by the bank, a failed pre-screen, which declines it after commit)."""
    from intake.models import PrescreenResult

    product = application.product
    if not (product.data_fast_track and product.fast_track_eligible):
        return None
    if application.channel != LoanApplication.Channel.ONLINE or not is_sme_owner(actor):
        return None
    prescreen = PrescreenResult.objects.filter(application=application).first()
    if prescreen is not None and not prescreen.passed:
        return None
    now = timezone.now()
    consents = {s: consent_for(application=application, source=s, now=now) for s in Source.values}
    covered = {s: c for s, c in consents.items() if c is not None}
    route = DataRoute.objects.create(
        application=application,
        consent=next(iter(covered.values()), None),
        created_at=now,
    )
    if not covered:
        data_route_fall_back(
            route=route,
            application=application,
            reasons=["no_consent"],
            data={"refusals": [_refusal(application=application, source=s) for s in Source.values]},
        )
        return route
    _audit(
        action="data_route_started",
        actor=None,
        application=application,
        subject=route,
        data={"sources": sorted(covered), "consent_id": route.consent_id},
    )
    _queries_create(
        application=application,
        consents=covered,
        actor=None,
        purpose=Purpose.PRE_LOAN,
        now=now,
        trigger="online_submission",
    )
    return route


def data_route_on_transition(*, application: LoanApplication, transition: str, actor) -> None:
    """A person took a transition on an application whose route still waits for the
    sources: the case is theirs, the system leaves it to them (in the transition's
    transaction, applications.effects)."""
    if actor is None:
        return
    route = (
        DataRoute.objects.select_for_update()
        .filter(application=application, status=DataRoute.Status.WAITING)
        .first()
    )
    if route is None:
        return
    route.take_over(reason="taken_over")
    route.save()
    _audit(
        action="data_route_taken_over",
        actor=actor,
        application=application,
        subject=route,
        data={"transition": transition},
    )


def data_route_advance(*, application_id: int) -> str:
    """The system continues the route of an application submitted online once every source
    it asked has settled: it starts the investigation (for the relationship manager, who
    carries on should the case fall back), then scores it and, if it passes, sends it to
    approval where the fast track decides (investigation.services.data_fast_track_run). A
    source that failed for good, a source not covered, documents not accepted or a failed
    rule fall back to the normal route with the reasons. Only while the application is still
    where the automation left it: a person's action took it over (data_route_on_transition).
    Returns sent, normal_route, waiting or skipped."""
    from applications.services import application_transition
    from intake.selectors import checklist_missing
    from investigation.services import data_fast_track_run

    with transaction.atomic():
        application = (
            LoanApplication.objects.select_for_update(of=("self",))
            .select_related("product", "company")
            .filter(pk=application_id)
            .first()
        )
        route = DataRoute.objects.select_for_update().filter(application_id=application_id).first()
        if application is None or route is None or route.status != DataRoute.Status.WAITING:
            return "skipped"
        if application.status != "submitted":
            # Moved by the system meanwhile (the pre-screen's decline).
            data_route_fall_back(
                route=route,
                application=application,
                reasons=["not_submitted"],
                data={"status": application.status},
            )
            return "normal_route"
        statuses = dict(
            SourceQuery.objects.filter(
                application=application,
                requested_by__isnull=True,
                requested_at__gte=route.created_at,
            )
            .order_by("requested_at", "id")
            .values_list("source", "status")
        )
        if SourceQuery.Status.PENDING in statuses.values():
            return "waiting"
        failed = sorted(s for s, status in statuses.items() if status == SourceQuery.Status.FAILED)
        if failed:
            data_route_fall_back(
                route=route,
                application=application,
                reasons=["source_failed"],
                data={"failed": failed},
            )
            return "normal_route"
        if set(statuses) != set(Source.values):
            data_route_fall_back(
                route=route,
                application=application,
                reasons=["sources_missing"],
                data={"answered": sorted(statuses)},
            )
            return "normal_route"
        missing = checklist_missing(application, transition="start_investigation")
        if missing:
            data_route_fall_back(
                route=route,
                application=application,
                reasons=["documents"],
                data={"missing": [str(m) for m in missing]},
            )
            return "normal_route"
        application_transition(
            application_id=application.pk,
            transition="start_investigation",
            actor=None,
            system=True,
            locked=application,
            comment=_("Investigation started by the system: every source answered."),
            data={
                "investigator_id": application.relationship_manager_id,
                "decided_on_external_data": True,
            },
        )
        return data_fast_track_run(application_id=application.pk)


def data_routes_advance_due(*, limit: int = 200) -> int:
    """The waiting routes at submission whose queries have all settled (their task lost to a
    broker outage): continued now. Every minute (beat, with the due queries)."""
    from django.db.models import Exists, OuterRef

    pending = SourceQuery.objects.filter(
        application=OuterRef("application"),
        requested_by__isnull=True,
        status=SourceQuery.Status.PENDING,
    )
    ids = list(
        DataRoute.objects.filter(status=DataRoute.Status.WAITING)
        .filter(~Exists(pending))
        .order_by("created_at")
        .values_list("application_id", flat=True)[:limit]
    )
    done = 0
    for application_id in ids:
        try:
            done += data_route_advance(application_id=application_id) != "waiting"
        except Exception:
            logger.exception("Data-driven route failed for application %s", application_id)
    return done


# --- Post-loan re-queries ----------------------------------------------------------------------


def _requeries_seed(*, today: datetime.date) -> int:
    """A re-query row per source for active loans that have none: last asked on the day of
    the latest query of the source for the application (the answer the loan was granted on),
    else the payout's value date."""
    made = 0
    for source in Source.values:
        latest = (
            SourceQuery.objects.filter(application_id=OuterRef("application_id"), source=source)
            .order_by("-requested_at")
            .annotate(day=TruncDate("requested_at"))
            .values("day")[:1]
        )
        loans = (
            Loan.objects.filter(status=Loan.Status.ACTIVE)
            .exclude(Exists(LoanRequery.objects.filter(loan=OuterRef("pk"), source=source)))
            .annotate(asked=Coalesce(Subquery(latest), "disbursed_on"))
            .values_list("pk", "asked")
        )
        rows = [
            LoanRequery(loan_id=pk, source=source, last_asked_on=min(asked, today))
            for pk, asked in loans.iterator(chunk_size=2000)
        ]
        made += len(LoanRequery.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True))
    return made


def _due_q(*, today: datetime.date):
    """Re-queries due today: asked at least the interval of the loan's class ago."""
    due = Q(pk__in=[])
    for classification, days in RequeryInterval.objects.values_list("classification", "every_days"):
        due |= Q(
            loan__classification=classification,
            last_asked_on__lte=today - datetime.timedelta(days=days),
        )
    return due


def _consent_in_force_q(*, now):
    """Whether a consent in force covers the row's source for the loan's application."""
    return Case(
        *(
            When(
                source=source,
                then=Exists(
                    Consent.objects.filter(
                        application_id=OuterRef("loan__application_id"),
                        status=Consent.Status.GRANTED,
                        valid_until__gt=now,
                        scope__contains=[source],
                    )
                ),
            )
            for source in Source.values
        ),
        default=False,
    )


def loans_requery(*, today: datetime.date | None = None, limit: int | None = None) -> dict:
    """The nightly re-query of the sources about active loans: each source again once the
    interval of the loan's class (RequeryInterval, which the administrator sets) has passed
    since it was last asked, at most `limit` calls a run (LOANFLOW_DATASOURCE_REQUERY_LIMIT;
    the longest-waiting first, the rest the next nights), each through the same path as a
    case officer's query (a SourceQuery under the consent, the worker after commit). No
    query without a consent in force for the source: the loan is listed as needing a renewed
    consent, audited once. Idempotent: a second run the same day finds nothing due."""
    today = today or timezone.localdate()
    limit = settings.LOANFLOW_DATASOURCE_REQUERY_LIMIT if limit is None else limit
    now = timezone.now()
    counts = {"seeded": _requeries_seed(today=today), "queried": 0, "needs_consent": 0}
    with transaction.atomic():
        due = (
            LoanRequery.objects.filter(_due_q(today=today), loan__status=Loan.Status.ACTIVE)
            .annotate(consented=_consent_in_force_q(now=now))
            .filter(
                # A loan already listed as needing consent waits for a renewed one.
                Q(consented=True) | Q(consent_missing_since__isnull=True)
            )
            .select_related("loan__application__company")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("last_asked_on", "id")[:limit]
        )
        for row in due:
            application = row.loan.application
            consent = (
                consent_for(application=application, source=row.source, now=now)
                if row.consented
                else None
            )
            if consent is None:
                row.consent_missing_since = today
                row.save(update_fields=["consent_missing_since"])
                _audit(
                    action="datasource_requery_skipped",
                    actor=None,
                    application=application,
                    subject=row,
                    data={
                        "source": row.source,
                        "reason": _refusal(application=application, source=row.source),
                    },
                )
                counts["needs_consent"] += 1
                continue
            (row.last_query,) = _queries_create(
                application=application,
                consents={row.source: consent},
                actor=None,
                purpose=Purpose.POST_LOAN,
                now=now,
                trigger="post_loan_requery",
            )
            row.last_asked_on = today
            row.consent_missing_since = None
            row.save(update_fields=["last_query", "last_asked_on", "consent_missing_since"])
            counts["queried"] += 1
    logger.info("post-loan re-queries for %s: %s", today, counts)
    return counts


# --- Facts: the investigator confirms or contradicts -----------------------------------------

# A fact that verifies one of the investigation's declared facts: (VerificationItem.Fact,
# VerificationItem.Source).
VERIFIES = {
    "registry_status": ("registration", "registry"),
    "legal_representative": ("legal_representative", "registry"),
    "declared_revenue": ("revenue", "tax_record"),
    "tax_paid": ("tax", "tax_record"),
}
# A fact that fills one of the investigation's assessment fields when confirmed.
FILLS = {"tax_grade": "tax_grade", "repayment_record": "repayment_record"}


def _fact_for_decision(*, actor, application_id: int, fact_id: int):
    application = _case_officer_application(actor=actor, application_id=application_id)
    if application.investigator_id != actor.pk:
        raise Forbidden(
            _("Only the investigator of this application may change the investigation."),
            code="not_investigator",
        )
    try:
        fact = SourceFact.objects.select_for_update().get(pk=fact_id, application=application)
    except SourceFact.DoesNotExist:
        raise NotFound() from None
    return application, fact


def _provenance(fact: SourceFact) -> str:
    return _("%(source)s, as of %(time)s: %(value)s") % {
        "source": Source(fact.source).label,
        "time": timezone.localtime(fact.observed_at).strftime("%Y-%m-%d %H:%M"),
        "value": fact.value,
    }


@transaction.atomic
def source_fact_confirm(*, actor, application_id: int, fact_id: int) -> SourceFact:
    """The investigator confirms a fact from a source: it verifies the matching declared fact,
    or fills the matching assessment field, with the source and time as the note."""
    from investigation import services as investigation_services

    application, fact = _fact_for_decision(
        actor=actor, application_id=application_id, fact_id=fact_id
    )
    if fact.status == SourceFact.Status.CONFIRMED:
        raise Conflict(_("This fact is already confirmed."), code="already_confirmed")
    fact.confirm(by=actor)
    fact.save()
    if fact.key in VERIFIES:
        item, source = VERIFIES[fact.key]
        investigation_services.verification_record(
            application_id=application.pk,
            actor=actor,
            fact=item,
            status="verified",
            source=source,
            note=_provenance(fact),
        )
    elif fact.key in FILLS:
        investigation_services.assessment_save(
            application_id=application.pk, actor=actor, changes={FILLS[fact.key]: fact.value}
        )
    _audit(
        action="datasource_fact_confirm",
        actor=actor,
        application=application,
        subject=fact,
        data={"key": fact.key, "source": fact.source, "value": fact.value},
    )
    return fact


@transaction.atomic
def source_fact_mismatch(*, actor, application_id: int, fact_id: int, reason: str) -> SourceFact:
    """The investigator records that a fact from a source does not match, and why; a declared
    fact it was to verify is marked as a mismatch (a flag when the case is next scored)."""
    from investigation import services as investigation_services

    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput(details={"reason": [_("Say why it does not match.")]})
    application, fact = _fact_for_decision(
        actor=actor, application_id=application_id, fact_id=fact_id
    )
    if fact.status == SourceFact.Status.MISMATCH:
        raise Conflict(_("This mismatch is already recorded."), code="already_mismatch")
    fact.mismatch(by=actor, reason=reason)
    fact.save()
    if fact.key in VERIFIES:
        item, source = VERIFIES[fact.key]
        investigation_services.verification_record(
            application_id=application.pk,
            actor=actor,
            fact=item,
            status="mismatch",
            source=source,
            note=f"{_provenance(fact)} — {reason}"[:2000],
        )
    _audit(
        action="datasource_fact_mismatch",
        actor=actor,
        application=application,
        subject=fact,
        data={"key": fact.key, "source": fact.source, "value": fact.value, "reason": reason},
    )
    return fact
