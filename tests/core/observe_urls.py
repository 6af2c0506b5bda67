"""A view that enqueues a task, for tests/core/test_request_logs.py."""

import logging

from django.http import HttpResponse
from django.urls import path

from common.queue import enqueue_now
from loanflow.celery import app

logger = logging.getLogger("tests.observe")


@app.task(name="tests.observe.echo")
def echo(word: str) -> None:
    logger.info("echo %s", word)


def enqueue_echo(request):
    enqueue_now(echo, request.GET["word"])
    return HttpResponse("queued")


urlpatterns = [path("enqueue-echo/", enqueue_echo)]


def boom(request):
    raise RuntimeError("the ledger caught fire")


urlpatterns += [path("boom/", boom)]
