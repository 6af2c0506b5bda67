#!/usr/bin/env bash
# make test: the whole suite against PostgreSQL and Redis, browser tests included.
source "$(dirname "$0")/common.sh"

apt_install chromium fonts-wqy-microhei gettext docker-compose poppler-utils \
    libpango-1.0-0 libpangoft2-1.0-0 wrk
ensure_venv requirements-dev.txt

# --- Services: start them when down, and fail loudly if they stay unreachable. ---------------
if ! pg_isready -h 127.0.0.1 -p 5432 -q; then
    log "Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql)" main start || true
    for _ in $(seq 30); do pg_isready -h 127.0.0.1 -p 5432 -q && break; sleep 1; done
fi
pg_isready -h 127.0.0.1 -p 5432 -q || { echo "FATAL: PostgreSQL is unreachable on 127.0.0.1:5432" >&2; exit 1; }
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    log "Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
    for _ in $(seq 30); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && break; sleep 1; done
fi
redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 || { echo "FATAL: Redis is unreachable on 127.0.0.1:6379" >&2; exit 1; }

export DATABASE_URL=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/loanflow}
if [ -z "${TEST_DATABASE_URL:-}" ]; then
    # makemigrations --check reads the migration history of this (otherwise unused) database.
    psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname = 'loanflow'" \
        | grep -q 1 || createdb -h 127.0.0.1 -U postgres loanflow
fi
export REDIS_URL=${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}
export DJANGO_ALLOW_ASYNC_UNSAFE=true
export HOME="$ROOT/var/.home" PLAYWRIGHT_BROWSERS_PATH="$ROOT/var/.playwright"
mkdir -p "$HOME"

log "Static checks: ruff, migrations, translations, compose file, deploy settings"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/python manage.py makemigrations --check --dry-run -v 0
compile_messages
docker-compose -f docker-compose.yml config -q
# (without the test-only DJANGO_ALLOW_ASYNC_UNSAFE, which the deploy check rightly refuses)
env -u DJANGO_ALLOW_ASYNC_UNSAFE \
    DJANGO_PRODUCTION=true DJANGO_SECRET_KEY="$(head -c 48 /dev/urandom | base64)" \
    DJANGO_ALLOWED_HOSTS=loanflow.example.com CACHE_URL=redis://127.0.0.1:6379/1 \
    .venv/bin/python manage.py check --deploy --fail-level WARNING -v 0

log "Test suite (PostgreSQL, Redis, chromium)"
.venv/bin/pytest "$@"

if [ -f bench/run.py ]; then
    log "Benchmark smoke run (--scale 0.001, no timings asserted)"
    .venv/bin/python bench/run.py --scale 0.001 --smoke --database loanflow_bench_smoke
fi
