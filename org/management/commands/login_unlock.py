from django.core.management.base import BaseCommand, CommandError

from common.errors import NotFound
from org.services import login_unlock


class Command(BaseCommand):
    help = (
        "Unlock a login locked after repeated wrong passwords: clears the username's failed "
        "attempts from every address, and records the unlock in the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        try:
            cleared = login_unlock(username=options["username"])
        except NotFound as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(
            f"{options['username']}: unlocked ({cleared} records of failed attempts cleared)."
        )
