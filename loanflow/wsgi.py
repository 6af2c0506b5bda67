"""The WSGI application (gunicorn in production, and the benchmark).

Each worker warms up before it serves: it resolves and reverses a URL (which imports every
app's views and API classes and builds the URL conf's indexes) and loads its translation
catalogs. Then it moves what it holds into the garbage collector's permanent generation
(gc.freeze), so that a full collection walks only what requests create, not the ~130,000
objects of Django, DRF and the URL conf. Unfrozen, a full collection took 80-150 ms under load,
and workers started together and serving alike ran theirs at the same moment, so that every
request in flight waited behind them: the queue page's p99 under load was 250-300 ms against a
server-side p99 of 9 ms, and 14 ms once frozen (collections of 2-6 ms)."""

import contextlib
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loanflow.settings")
application = get_wsgi_application()


def _warm_up() -> None:
    from django.conf import settings
    from django.urls import Resolver404, get_resolver, reverse
    from django.utils import translation

    with contextlib.suppress(Resolver404):  # the URL conf need not serve "/"
        get_resolver().resolve("/")
    reverse("api-health")
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            translation.gettext("Applications")
    # Celery: its app's task registry, and the broker's transport module, which each worker's
    # first publish (an approval's offer, say) otherwise paid: ~120 ms on the first such
    # request after a restart. Nothing connects to the broker here.
    from loanflow.celery import app as celery_app

    celery_app.finalize(auto=True)
    with celery_app.connection_for_write() as broker:
        broker.transport_cls  # noqa: B018 - resolved (imported) on creation


_warm_up()
gc.freeze()
