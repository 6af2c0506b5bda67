# LoanFlow production image: gunicorn for the web, the same image for the Celery worker and beat.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 LOANFLOW_VAR_DIR=/app/var LOANFLOW_MEDIA_ROOT=/app/media

# WeasyPrint needs Pango; Chinese PDFs need a CJK font (wqy-microhei: small and fast);
# gettext compiles the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-wqy-microhei libpango-1.0-0 \
       libpangoft2-1.0-0 gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements.txt .
RUN pip install -r requirements.txt

COPY . .
# Build-time only settings: production static storage, a throwaway key and a database URL
# that neither command connects to (never used at runtime).
ENV BUILD_SETTINGS="DJANGO_PRODUCTION=true DJANGO_SECRET_KEY=build-only-not-a-secret DATABASE_URL=postgres://build@localhost/build"
RUN env $BUILD_SETTINGS python manage.py compilemessages --ignore=.venv -v 0 \
    && env $BUILD_SETTINGS python manage.py collectstatic --noinput -v 0 \
    && useradd --system --uid 10001 --home /app loanflow \
    && mkdir -p /app/var/documents /app/media \
    && chown -R loanflow /app/var /app/media

USER loanflow
EXPOSE 8000
CMD ["sh", "-c", "exec gunicorn loanflow.wsgi:application --bind 0.0.0.0:8000 --workers ${GUNICORN_WORKERS:-2} --access-logfile - --timeout 60"]
