"""Backup and restore of a whole bank: the database (a pg_dump in custom format) and every
stored file of both stores (common.storage), with a manifest of what was taken.

A backup is a folder:

    manifest.json         when, the database's migrations, each table's row count, each file's
                          SHA-256 and size, the dump's SHA-256
    database.dump         pg_dump --format=custom, taken in the snapshot the row counts read
    files/<store>/<name>  each stored file, read through the storage API (any store)

The dump and the row counts come from one exported snapshot, so the counts are exactly what
the dump holds. Files are copied after the snapshot: every file a dumped row names exists by
then (files are written before their row commits and never changed), and a file uploaded
meanwhile is taken too, harmlessly. Restoring needs an empty database and empty stores; it
checks every checksum first and every row count and file after.
"""

import hashlib
import json
import os
import shutil
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import psycopg
from django.conf import settings
from django.core.files import File
from django.core.files.storage import storages
from psycopg import sql

STORES = ("default", "documents")
FORMAT = 1


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why."""


@dataclass(frozen=True)
class Database:
    """How to reach a PostgreSQL database: its libpq parameters."""

    name: str
    user: str = ""
    password: str = ""
    host: str = ""
    port: str = ""

    @classmethod
    def from_settings(cls, alias: str = "default") -> "Database":
        db = settings.DATABASES[alias]
        return cls(
            name=db["NAME"],
            user=db.get("USER") or "",
            password=db.get("PASSWORD") or "",
            host=db.get("HOST") or "",
            port=str(db.get("PORT") or ""),
        )

    def conninfo(self) -> str:
        params = {"dbname": self.name, "user": self.user, "host": self.host, "port": self.port}
        return psycopg.conninfo.make_conninfo(**{k: v for k, v in params.items() if v})

    def environ(self) -> dict[str, str]:
        """The environment of pg_dump and pg_restore (the password never on a command line)."""
        env = {**os.environ}
        for key, value in (
            ("PGUSER", self.user),
            ("PGHOST", self.host),
            ("PGPORT", self.port),
            ("PGPASSWORD", self.password),
        ):
            if value:
                env[key] = value
        return env


def _binary(name: str) -> str:
    folder = getattr(settings, "LOANFLOW_PG_BIN", "")
    path = str(Path(folder) / name) if folder else shutil.which(name)
    if not path or not Path(path).exists():
        raise BackupError(
            f"{name} was not found: install the PostgreSQL client of the server's version, or "
            "set LOANFLOW_PG_BIN to its folder."
        )
    return path


def _sha256(handle, *, copy_to=None) -> tuple[str, int]:
    """The SHA-256 and size of what `handle` reads (written to `copy_to` too, if given)."""
    digest, size = hashlib.sha256(), 0
    for chunk in iter(lambda: handle.read(1024 * 1024), b""):
        digest.update(chunk)
        size += len(chunk)
        if copy_to is not None:
            copy_to.write(chunk)
    return digest.hexdigest(), size


def _stored_names(storage, folder: str = ""):
    """Every file name in a store, through the storage API (recursively)."""
    try:
        folders, files = storage.listdir(folder)
    except FileNotFoundError:  # a local store nothing was written to yet
        return
    for name in sorted(files):
        yield f"{folder}/{name}" if folder else name
    for sub in sorted(folders):
        yield from _stored_names(storage, f"{folder}/{sub}" if folder else sub)


def _row_counts(cursor) -> dict[str, int]:
    cursor.execute(
        "SELECT schemaname, tablename FROM pg_tables "
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
    )
    counts = {}
    for schema, table in cursor.fetchall():
        cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(schema, table)))
        counts[f"{schema}.{table}"] = cursor.fetchone()[0]
    return counts


def backup_create(*, folder: Path, database: Database | None = None) -> dict:
    """Take a backup into `folder` (created; it must not exist or be empty). Returns the
    manifest."""
    database = database or Database.from_settings()
    folder = Path(folder)
    if folder.exists() and any(folder.iterdir()):
        raise BackupError(f"{folder} is not empty.")
    folder.mkdir(parents=True, exist_ok=True)
    dump = folder / "database.dump"
    # One snapshot for the row counts and the dump (held open by this transaction).
    with psycopg.connect(database.conninfo(), password=database.password or None) as conn:
        conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        with conn.transaction(), conn.cursor() as cursor:
            cursor.execute("SELECT pg_export_snapshot(), now(), version()")
            snapshot, taken_at, server = cursor.fetchone()
            counts = _row_counts(cursor)
            cursor.execute("SELECT app, name FROM django_migrations ORDER BY app, id")
            migrations: dict[str, str] = {}
            for app, name in cursor.fetchall():
                migrations[app] = name
            result = subprocess.run(
                [
                    _binary("pg_dump"),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={dump}",
                    database.name,
                ],
                env=database.environ(),
                capture_output=True,
                text=True,
            )
            if result.returncode != 0:
                raise BackupError(f"pg_dump failed: {result.stderr.strip()[-1000:]}")
    with dump.open("rb") as handle:
        dump_sha, dump_size = _sha256(handle)
    files = []
    for alias in STORES:
        storage = storages[alias]
        for name in _stored_names(storage):
            target = folder / "files" / alias / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with storage.open(name, "rb") as source, target.open("wb") as out:
                sha, size = _sha256(source, copy_to=out)
            files.append({"store": alias, "name": name, "sha256": sha, "size": size})
    manifest = {
        "format": FORMAT,
        "taken_at": taken_at.astimezone(UTC).isoformat(),
        "finished_at": datetime.now(UTC).isoformat(),
        "server": server,
        "database": {"file": dump.name, "sha256": dump_sha, "size": dump_size},
        "migrations": migrations,
        "row_counts": counts,
        "files": files,
    }
    (folder / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    return manifest


def backup_verify(*, folder: Path) -> dict:
    """Check a backup's dump and files against its manifest. Returns the manifest."""
    folder = Path(folder)
    try:
        manifest = json.loads((folder / "manifest.json").read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"No readable manifest in {folder}: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise BackupError(f"Unknown backup format {manifest.get('format')!r}.")
    with (folder / manifest["database"]["file"]).open("rb") as handle:
        if _sha256(handle)[0] != manifest["database"]["sha256"]:
            raise BackupError("The database dump does not match its checksum.")
    for entry in manifest["files"]:
        path = folder / "files" / entry["store"] / entry["name"]
        if not path.is_file():
            raise BackupError(f"Missing file: {entry['store']}/{entry['name']}")
        with path.open("rb") as handle:
            if _sha256(handle)[0] != entry["sha256"]:
                raise BackupError(f"Checksum mismatch: {entry['store']}/{entry['name']}")
    return manifest


def backup_restore(*, folder: Path, database: Database | None = None) -> dict:
    """Restore a backup into an empty database and empty stores, checking everything first
    (the manifest's checksums) and after (each table's row count, each file's checksum).
    Returns the manifest."""
    database = database or Database.from_settings()
    folder = Path(folder)
    manifest = backup_verify(folder=folder)
    with psycopg.connect(database.conninfo(), password=database.password or None) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables "
            "WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        ).fetchone()[0]
    if tables:
        raise BackupError(f"The database {database.name} is not empty ({tables} tables).")
    for alias in STORES:
        if next(_stored_names(storages[alias]), None) is not None:
            raise BackupError(f"The store {alias!r} is not empty.")
    result = subprocess.run(
        [
            _binary("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            f"--dbname={database.name}",
            str(folder / manifest["database"]["file"]),
        ],
        env=database.environ(),
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        raise BackupError(f"pg_restore failed: {result.stderr.strip()[-1000:]}")
    for entry in manifest["files"]:
        storage = storages[entry["store"]]
        with (folder / "files" / entry["store"] / entry["name"]).open("rb") as handle:
            saved = storage.save(entry["name"], File(handle))
        if saved != entry["name"]:
            raise BackupError(f"{entry['store']}/{entry['name']} was stored as {saved}.")
    with (
        psycopg.connect(database.conninfo(), password=database.password or None) as conn,
        conn.cursor() as cursor,
    ):
        counts = _row_counts(cursor)
    if counts != manifest["row_counts"]:
        differ = sorted(
            table
            for table in set(counts) | set(manifest["row_counts"])
            if counts.get(table) != manifest["row_counts"].get(table)
        )
        raise BackupError(f"Row counts differ after the restore: {', '.join(differ[:10])}")
    for entry in manifest["files"]:
        with storages[entry["store"]].open(entry["name"], "rb") as handle:
            if _sha256(handle)[0] != entry["sha256"]:
                raise BackupError(f"Restored file differs: {entry['store']}/{entry['name']}")
    return manifest
