"""Unhandled errors go to Sentry when SENTRY_DSN is set, through sentry-sdk's own transport to
a local server that records what it receives; without a DSN nothing is initialised."""

import gzip
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sentry_sdk
from django.conf import settings
from django.test import Client

from loanflow.observability import init_sentry


class EnvelopeRecorder(ThreadingHTTPServer):
    """A stand-in for Sentry's ingest: keeps the decompressed body of every envelope."""

    def __init__(self):
        self.envelopes: list[str] = []
        super().__init__(("127.0.0.1", 0), _EnvelopeHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def dsn(self) -> str:
        return f"http://publickey@127.0.0.1:{self.server_address[1]}/42"


class _EnvelopeHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding", "")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":
            import brotli

            body = brotli.decompress(body)
        self.server.envelopes.append(body.decode())
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def sentry_server():
    server = EnvelopeRecorder()
    yield server
    sentry_sdk.get_client().close()
    sentry_sdk.get_global_scope().set_client(None)
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
@pytest.mark.urls("tests.core.observe_urls")
def test_an_exception_in_a_view_is_reported_to_sentry(sentry_server):
    assert init_sentry(dsn=sentry_server.dsn, environment="staging", release="loanflow@1.2.3")
    client = Client(raise_request_exception=False)
    client.cookies["sessionid"] = "secret-session-cookie"

    response = client.get("/boom/")
    assert response.status_code == 500
    sentry_sdk.flush(timeout=5)

    events = [body for body in sentry_server.envelopes if '"type":"event"' in body]
    assert len(events) == 1
    assert "the ledger caught fire" in events[0]
    assert '"environment":"staging"' in events[0]
    assert '"release":"loanflow@1.2.3"' in events[0]
    # send_default_pii=False: no cookies, no client address.
    assert "secret-session-cookie" not in events[0]
    assert "127.0.0.1" not in events[0].replace(sentry_server.dsn, "")


def _sentry_initialised_by_settings(**environment) -> str:
    env = {k: v for k, v in os.environ.items() if k != "SENTRY_DSN"} | environment
    code = "import django; django.setup(); import sentry_sdk; print(sentry_sdk.is_initialized())"
    result = subprocess.run(
        [sys.executable, "-c", code],
        env=env | {"DJANGO_SETTINGS_MODULE": "loanflow.settings"},
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip().splitlines()[-1]


def test_without_a_dsn_sentry_is_not_initialised():
    assert init_sentry(dsn="", environment="production", release="") is False
    assert not sentry_sdk.is_initialized()
    assert _sentry_initialised_by_settings() == "False"


def test_settings_initialise_sentry_when_a_dsn_is_set(sentry_server):
    assert _sentry_initialised_by_settings(SENTRY_DSN=sentry_server.dsn) == "True"
