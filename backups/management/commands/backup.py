from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from backups.services import BackupError, backup_create


class Command(BaseCommand):
    help = (
        "Back up the bank: the database (pg_dump, custom format) and every stored file, with a "
        "manifest of row counts and checksums, into a new folder."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--to",
            help="Folder to create (default: $LOANFLOW_BACKUP_DIR/<UTC time>).",
        )

    def handle(self, *args, **options):
        folder = Path(
            options["to"]
            or Path(settings.LOANFLOW_BACKUP_DIR) / datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        )
        try:
            manifest = backup_create(folder=folder)
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        rows = sum(manifest["row_counts"].values())
        self.stdout.write(
            f"Backup in {folder}: {len(manifest['row_counts'])} tables, {rows} rows, "
            f"{len(manifest['files'])} files."
        )
