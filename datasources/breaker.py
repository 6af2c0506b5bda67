"""A circuit breaker per source, its state in Django's cache (Redis in production, so every
worker sees it): after LOANFLOW_DATASOURCE_BREAKER_FAILURES failures in a row the source is
not called for LOANFLOW_DATASOURCE_BREAKER_OPEN_SECONDS. A cache that cannot be reached
counts as a closed breaker: the call's own timeout still bounds it."""

import datetime
import logging

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

logger = logging.getLogger(__name__)


def _keys(source: str) -> tuple[str, str]:
    return f"datasources:breaker:{source}:failures", f"datasources:breaker:{source}:open_until"


def open_until(source: str) -> datetime.datetime | None:
    """When the breaker closes again, if it is open now."""
    try:
        until = cache.get(_keys(source)[1])
    except Exception:  # noqa: BLE001 - the cache's own errors (Redis down)
        logger.warning("Circuit breaker state for %s unavailable", source)
        return None
    if until is None:
        return None
    until = datetime.datetime.fromisoformat(until)
    return until if until > timezone.now() else None


def record_success(source: str) -> None:
    try:
        cache.delete_many(list(_keys(source)))
    except Exception:  # noqa: BLE001
        logger.warning("Circuit breaker state for %s unavailable", source)


def record_failure(source: str) -> bool:
    """Count a failure; True if the breaker opens with it."""
    failures_key, open_key = _keys(source)
    seconds = settings.LOANFLOW_DATASOURCE_BREAKER_OPEN_SECONDS
    try:
        cache.add(failures_key, 0, timeout=seconds * 10)
        failures = cache.incr(failures_key)
        if failures < settings.LOANFLOW_DATASOURCE_BREAKER_FAILURES:
            return False
        until = timezone.now() + datetime.timedelta(seconds=seconds)
        cache.set(open_key, until.isoformat(), timeout=seconds)
        cache.delete(failures_key)
    except Exception:  # noqa: BLE001
        logger.warning("Circuit breaker state for %s unavailable", source)
        return False
    logger.warning("Circuit breaker for %s open until %s", source, until)
    return True
