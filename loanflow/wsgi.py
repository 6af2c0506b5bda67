"""The WSGI application (gunicorn in production, and the benchmark). gunicorn.conf.py warms
each worker up and freezes its heap before it serves (docs/adr/0009)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "loanflow.settings")
application = get_wsgi_application()
