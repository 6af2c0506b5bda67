from django.core.management.base import BaseCommand, CommandError

from backups.services import BackupError, backup_restore, backup_verify


class Command(BaseCommand):
    help = (
        "Restore a backup (manage.py backup) into an empty database and empty file stores: "
        "checksums are checked first, row counts and files after. With --verify-only, only "
        "check the backup."
    )

    def add_arguments(self, parser):
        parser.add_argument("folder")
        parser.add_argument("--verify-only", action="store_true")

    def handle(self, *args, **options):
        try:
            if options["verify_only"]:
                manifest = backup_verify(folder=options["folder"])
                self.stdout.write(f"Backup of {manifest['taken_at']} is intact.")
                return
            manifest = backup_restore(folder=options["folder"])
        except BackupError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"Restored the backup of {manifest['taken_at']}: "
            f"{len(manifest['row_counts'])} tables, {len(manifest['files'])} files, all checked."
        )
