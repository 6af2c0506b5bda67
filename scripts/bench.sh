#!/usr/bin/env bash
# make bench: load a synthetic bank into PostgreSQL and measure LoanFlow against its floors.
source "$(dirname "$0")/common.sh"
apt_install wrk fonts-wqy-microhei libpango-1.0-0 libpangoft2-1.0-0
ensure_venv requirements-dev.txt
exec .venv/bin/python bench/run.py "$@"
