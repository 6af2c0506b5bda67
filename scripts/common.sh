# Shared set-up for scripts/run.sh, scripts/test.sh and scripts/bench.sh: Debian packages,
# the virtual environment, compiled translations. Idempotent and quiet when nothing is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PIP_DISABLE_PIP_VERSION_CHECK=1

log() { printf '\033[1m==> %s\033[0m\n' "$*"; }

apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "Installing Debian packages: ${missing[*]}"
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -q >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends \
        "${missing[@]}" >/dev/null
}

ensure_venv() {
    local requirements=$1
    if [ ! -x .venv/bin/python ]; then
        log "Creating the virtual environment (.venv)"
        python3.11 -m venv .venv 2>/dev/null || python3 -m venv .venv
    fi
    local stamp=".venv/.installed-$(basename "$requirements")"
    if [ ! -f "$stamp" ] || [ "$requirements" -nt "$stamp" ] || [ requirements.txt -nt "$stamp" ] \
            || [ requirements-local.txt -nt "$stamp" ]; then
        log "Installing Python packages from $requirements"
        .venv/bin/pip install -q -r "$requirements"
        touch "$stamp"
    fi
}

compile_messages() {
    .venv/bin/python manage.py compilemessages --ignore=.venv --ignore=var -v 0
}
