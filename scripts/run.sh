#!/usr/bin/env bash
# make run: LoanFlow on its embedded defaults (SQLite, Celery on a filesystem:// broker),
# with demo data, a worker with beat, and the web server on 127.0.0.1:8000.
source "$(dirname "$0")/common.sh"

apt_install fonts-wqy-microhei gettext libpango-1.0-0 libpangoft2-1.0-0
ensure_venv requirements.txt
unset DATABASE_URL REDIS_URL
mkdir -p var/celery/queue var/celery/processed var/celery/control var/mail var/media
compile_messages
log "Migrating the database (var/loanflow.sqlite3)"
.venv/bin/python manage.py migrate --noinput -v 0
export PORT=${PORT:-8000}
log "Loading demo data"
.venv/bin/python manage.py seed_demo

log "Starting the Celery worker with beat (log: var/celery.log)"
.venv/bin/celery -A loanflow worker -B --loglevel=INFO --concurrency=2 \
    --schedule=var/celerybeat-schedule >var/celery.log 2>&1 &
worker=$!
web=""
# Stop the worker and the web server together, whichever way this script ends; a worker
# still busy after 10 s of warm shutdown is killed.
stop() {
    trap - EXIT INT TERM
    kill $web $worker 2>/dev/null || true
    for _ in $(seq 10); do kill -0 $worker 2>/dev/null || break; sleep 1; done
    pkill -KILL -P $worker 2>/dev/null || true
    kill -KILL $worker 2>/dev/null || true
}
trap stop EXIT INT TERM

cat <<TXT

  LoanFlow is starting on http://127.0.0.1:$PORT/
    staff:       http://127.0.0.1:$PORT/            (logins above, password demo-Loanflow-2026)
    portal:      http://127.0.0.1:$PORT/portal/
    API docs:    http://127.0.0.1:$PORT/api/docs/
    admin:       http://127.0.0.1:$PORT/admin/
  Press Ctrl-C to stop.

TXT
# --noreload: one process, so stopping this script stops the server too.
.venv/bin/python manage.py runserver --noreload "127.0.0.1:$PORT" &
web=$!
wait $web
