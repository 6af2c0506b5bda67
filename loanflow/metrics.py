"""Prometheus metrics at /metrics: django-prometheus's request counters and latencies (its
middleware only: the database and cache backends are not wrapped) and LoanFlow's own gauges,
computed at each scrape by `DomainCollector` with a few ORM aggregates and Redis LLENs.

Only LOANFLOW_METRICS_ALLOWED_ADDRESSES (default: loopback) or a request bearing
LOANFLOW_METRICS_TOKEN may read them; anyone else gets a 404, as if nothing were there.
"""

import hmac
import ipaddress
import logging

from django.conf import settings
from django.db.models import Count, Min, Q
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.http import require_GET
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from prometheus_client.core import GaugeMetricFamily

logger = logging.getLogger("loanflow.metrics")


# name: (help, labels). Every family is computed at each scrape.
GAUGES = {
    "loanflow_approval_tasks_open": ("Approval tasks open or claimed, per queue (role).", ["role"]),
    "loanflow_approval_tasks_overdue": (
        "Approval tasks open or claimed past their due time, per queue (role).",
        ["role"],
    ),
    "loanflow_sla_events_due_unfired": (
        "SLA reminders and escalations due but not yet fired by the sweep.",
        [],
    ),
    "loanflow_sla_oldest_due_unfired_seconds": (
        "Age of the oldest SLA reminder or escalation due but not yet fired (0: none).",
        [],
    ),
    "loanflow_celery_queue_length": (
        "Messages waiting in each Celery queue (Redis LLEN).",
        ["queue"],
    ),
    "loanflow_documents_render_failed": (
        "Credit memos and offer letters whose PDF render failed.",
        ["document"],
    ),
    "loanflow_email_deliveries_undelivered": (
        "Notification e-mails not delivered yet (queued, being sent, or failed and to retry).",
        ["status"],
    ),
}


def _gauge(name: str) -> GaugeMetricFamily:
    documentation, labels = GAUGES[name]
    return GaugeMetricFamily(name, documentation, labels=labels)


class DomainCollector:
    """The work waiting in LoanFlow, read when Prometheus scrapes (never cached)."""

    def describe(self):
        # Named up front, so registering the collector does not query the database.
        return [_gauge(name) for name in GAUGES]

    def collect(self):
        sources = (self._approvals, self._sla, self._queues, self._renders, self._emails)
        for source in sources:
            try:
                families = list(source())
            except Exception:  # noqa: BLE001 - one unreachable source must not hide the rest
                logger.warning("Could not compute the %s metrics.", source.__name__, exc_info=True)
                continue
            yield from families

    def _approvals(self):
        from approvals.models import ApprovalTask

        waiting = [ApprovalTask.Status.OPEN, ApprovalTask.Status.CLAIMED]
        rows = (
            ApprovalTask.objects.filter(status__in=waiting)
            .values("role")
            .annotate(open=Count("id"), overdue=Count("id", filter=Q(due_at__lt=timezone.now())))
            .order_by("role")
        )
        open_, overdue = (
            _gauge("loanflow_approval_tasks_open"),
            _gauge("loanflow_approval_tasks_overdue"),
        )
        for row in rows:
            open_.add_metric([row["role"]], row["open"])
            overdue.add_metric([row["role"]], row["overdue"])
        return [open_, overdue]

    def _sla(self):
        from sla.models import Deadline

        now = timezone.now()
        # Served by the sweep's own partial index on next_fire_at.
        lag = Deadline.objects.filter(next_fire_at__lte=now).aggregate(
            due=Count("id"), oldest=Min("next_fire_at")
        )
        due, oldest = (
            _gauge("loanflow_sla_events_due_unfired"),
            _gauge("loanflow_sla_oldest_due_unfired_seconds"),
        )
        due.add_metric([], lag["due"])
        oldest.add_metric([], (now - lag["oldest"]).total_seconds() if lag["oldest"] else 0)
        return [due, oldest]

    def _queues(self):
        if not settings.REDIS_URL:
            return []  # the filesystem broker of `make run` has no queue to measure
        import redis

        client = redis.Redis.from_url(
            settings.REDIS_URL,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
            socket_timeout=settings.REDIS_SOCKET_TIMEOUT,
        )
        lengths = _gauge("loanflow_celery_queue_length")
        try:
            for queue in settings.LOANFLOW_CELERY_QUEUES:
                lengths.add_metric([queue], client.llen(queue))
        finally:
            client.close()
        return [lengths]

    def _renders(self):
        from disbursement.models import Offer
        from investigation.models import CreditMemo

        failed = _gauge("loanflow_documents_render_failed")
        failed.add_metric(
            ["credit_memo"], CreditMemo.objects.filter(status=CreditMemo.Status.FAILED).count()
        )
        failed.add_metric(
            ["offer_letter"], Offer.objects.filter(status=Offer.Status.FAILED).count()
        )
        return [failed]

    def _emails(self):
        from notifications.models import EmailDelivery

        undelivered = [
            EmailDelivery.Status.QUEUED,
            EmailDelivery.Status.SENDING,
            EmailDelivery.Status.FAILED,
        ]
        counts = dict(
            EmailDelivery.objects.filter(status__in=undelivered)
            .values_list("status")
            .annotate(n=Count("id"))
            .order_by()
        )
        emails = _gauge("loanflow_email_deliveries_undelivered")
        for status in undelivered:
            emails.add_metric([status.value], counts.get(status.value, 0))
        return [emails]


REGISTRY.register(DomainCollector())


def _allowed(request) -> bool:
    token = settings.LOANFLOW_METRICS_TOKEN
    authorization = request.headers.get("Authorization", "")
    if token and authorization.startswith("Bearer "):
        return hmac.compare_digest(authorization.removeprefix("Bearer ").encode(), token.encode())
    from org.auth import client_address

    try:
        address = ipaddress.ip_address(client_address(request) or "")
    except ValueError:
        return False
    return any(address in network for network in settings.LOANFLOW_METRICS_ALLOWED_NETWORKS)


@require_GET
def metrics_view(request):
    if not _allowed(request):
        raise Http404
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
