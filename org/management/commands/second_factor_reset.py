from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from org.second_factor import second_factor_reset


class Command(BaseCommand):
    help = (
        "Reset a user's two-factor authentication (a lost phone): removes their authenticator "
        "and recovery codes and revokes their API token; they set up a new authenticator at "
        "their next login. Recorded in the audit trail."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, **options):
        username = options["username"]
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"There is no user {username}.")
        removed = second_factor_reset(user=user)
        self.stdout.write(
            f"{username}: two-factor authentication reset ({removed} devices removed); "
            "they set up an authenticator again at their next login."
        )
