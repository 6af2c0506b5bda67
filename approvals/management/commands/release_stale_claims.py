from django.core.management.base import BaseCommand

from approvals.services import approvals_sweep


class Command(BaseCommand):
    help = (
        "Return claimed approval tasks left untouched past the claim timeout to their "
        "queue, and take fast-track decisions not yet taken."
    )

    def handle(self, *args, **options):
        result = approvals_sweep()
        self.stdout.write(f"released={result['released']} fast_tracked={result['fast_tracked']}")
