import os

from django.core.management.base import BaseCommand, CommandError

from audit.roles import RoleError, runtime_role_grant


class Command(BaseCommand):
    help = (
        "As the database owner (the role migrations run as): create or update the role the "
        "application runs as, which owns nothing and may only INSERT and SELECT on the audit "
        "trail, and grant it the ordinary rights on every other table, now and for tables "
        "later migrations create. Idempotent: run it after every migrate."
    )

    def add_arguments(self, parser):
        parser.add_argument("--runtime-role", required=True, help="e.g. loanflow_app")
        parser.add_argument(
            "--password-env",
            help="environment variable holding the role's password (required to be set and "
            "non-empty when given; without it the password is left as it is)",
        )

    def handle(self, *args, runtime_role, password_env, **options):
        password = ""
        if password_env:
            password = os.environ.get(password_env, "")
            if not password:
                raise CommandError(f"{password_env} is not set: the runtime role needs a password.")
        try:
            done = runtime_role_grant(role=runtime_role, password=password)
        except RoleError as exc:
            raise CommandError(str(exc)) from None
        for statement in done:
            self.stdout.write(statement, style_func=None)
        self.stdout.write(f"{runtime_role}: ready ({len(done)} statements).")
