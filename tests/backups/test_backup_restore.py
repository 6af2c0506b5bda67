"""A backup of a seeded bank restores elsewhere with every table's rows and every file."""

import hashlib
import io
import json

import psycopg
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from django.core.management import CommandError, call_command
from django.db import connection

from backups.services import BackupError, Database, backup_restore
from tests import lifecycle
from tests.stores import use_file_stores

pytestmark = pytest.mark.django_db(transaction=True)


def _counts(database: Database) -> dict[str, int]:
    with psycopg.connect(database.conninfo()) as conn:
        tables = conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1"
        ).fetchall()
        return {
            table: conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]
            for (table,) in tables
        }


@pytest.fixture
def empty_database():
    source = Database.from_settings()
    target = Database(**{**source.__dict__, "name": f"{source.name}_restored"})
    admin = Database(**{**source.__dict__, "name": "postgres"})
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.name}"')
        conn.execute(f'CREATE DATABASE "{target.name}"')
    yield target
    with psycopg.connect(admin.conninfo(), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target.name}" WITH (FORCE)')


def test_a_seeded_bank_is_backed_up_and_restored_with_every_row_and_file(
    api, staff, company, product, settings, tmp_path, empty_database
):
    pk = lifecycle.file_draft(api, staff, company, product)
    lifecycle.walk_to(api, staff, pk, "disbursed")
    files = {
        ("documents", f"{pk}/营业执照.pdf"): b"%PDF-1.4 licence",
        ("default", "investigation/photos/site-1.jpg"): b"\xff\xd8\xff photo",
        ("default", "memos/memo.pdf"): b"%PDF-1.4 memo" * 1000,
    }
    for (alias, name), content in files.items():
        assert storages[alias].save(name, ContentFile(content)) == name
    before = _counts(Database.from_settings())
    assert before["applications_loanapplication"] == 1 and before["audit_auditevent"] > 10

    call_command("backup", to=str(tmp_path / "backup"), stdout=io.StringIO())

    # Restore into the empty database and empty stores that the settings now name.
    source_name = settings.DATABASES["default"]["NAME"]
    connection.close()
    use_file_stores(settings, tmp_path / "restored")
    settings.DATABASES["default"]["NAME"] = empty_database.name
    try:
        call_command("restore", str(tmp_path / "backup"), stdout=io.StringIO())
    finally:
        settings.DATABASES["default"]["NAME"] = source_name
    manifest = json.loads((tmp_path / "backup" / "manifest.json").read_text())
    assert _counts(empty_database) == before
    assert manifest["row_counts"]["public.applications_loanapplication"] == 1
    for (alias, name), content in files.items():
        restored = (tmp_path / "restored" / alias / name).read_bytes()
        assert hashlib.sha256(restored).digest() == hashlib.sha256(content).digest()


def test_a_tampered_backup_is_refused_before_anything_is_restored(
    settings, tmp_path, empty_database
):
    storages["documents"].save("1/id.pdf", ContentFile(b"%PDF-1.4 id"))
    call_command("backup", to=str(tmp_path / "backup"), stdout=io.StringIO())
    (tmp_path / "backup" / "files" / "documents" / "1" / "id.pdf").write_bytes(b"%PDF forged")
    with pytest.raises(CommandError, match="Checksum mismatch: documents/1/id.pdf"):
        call_command("restore", str(tmp_path / "backup"), "--verify-only")
    use_file_stores(settings, tmp_path / "restored")
    with pytest.raises(BackupError, match="Checksum mismatch"):
        backup_restore(folder=tmp_path / "backup", database=empty_database)
    assert _counts(empty_database) == {}
    assert not (tmp_path / "restored").exists()


def test_a_restore_refuses_a_database_that_is_not_empty(tmp_path):
    call_command("backup", to=str(tmp_path / "backup"), stdout=io.StringIO())
    with pytest.raises(BackupError, match="is not empty"):
        backup_restore(folder=tmp_path / "backup")
