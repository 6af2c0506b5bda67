# LoanFlow production image: gunicorn for the web (gunicorn.conf.py), the same image for the
# Celery workers and beat. Two stages: `build` makes the wheels, the virtual environment, the
# compiled translations and the static files; the runtime stage copies those onto a slim base
# with the runtime libraries only (no compiler, no gettext) and runs as a non-root user.
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
ENV PYTHONDONTWRITEBYTECODE=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
# gettext compiles the translations; Pango lets collectstatic import what imports WeasyPrint.
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential gettext libpango-1.0-0 \
       libpangoft2-1.0-0 \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY requirements.txt .
RUN pip wheel --wheel-dir /wheels -r requirements.txt \
    && python -m venv /opt/venv \
    && /opt/venv/bin/pip install --no-index --find-links /wheels -r requirements.txt
ENV PATH=/opt/venv/bin:$PATH
COPY . .
# Build-time only settings: production static storage, a throwaway key and a database URL
# that neither command connects to (never used at runtime).
RUN env DJANGO_PRODUCTION=true DJANGO_SECRET_KEY=build-only-not-a-secret \
        DATABASE_URL=postgres://build@localhost/build sh -c \
        "python manage.py compilemessages --ignore=.venv -v 0 \
         && python manage.py collectstatic --noinput -v 0"

FROM ${PYTHON_IMAGE} AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PATH=/opt/venv/bin:$PATH \
    LOANFLOW_VAR_DIR=/app/var LOANFLOW_MEDIA_ROOT=/app/media LOANFLOW_LOG_FORMAT=json
# WeasyPrint needs Pango; Chinese PDFs need a CJK font (wqy-microhei: small and fast);
# manage.py backup needs pg_dump of the server's version (compose: PostgreSQL 15).
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei libpango-1.0-0 \
       libpangoft2-1.0-0 postgresql-client-15 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --uid 10001 --home /app loanflow
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
WORKDIR /app
RUN mkdir -p /app/var/documents /app/var/backups /app/media \
    && chown -R loanflow /app/var /app/media

USER loanflow
EXPOSE 8000
# Readiness: the database, Redis, migrations and storage (loanflow/health.py). compose
# overrides it for the workers, beat and migrate, which serve no HTTP.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request as u; u.urlopen('http://127.0.0.1:8000/readyz', timeout=4)"]
CMD ["gunicorn", "--config", "gunicorn.conf.py"]
