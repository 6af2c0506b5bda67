"""manage.py loan_file_verify [application id ...]: file every document not filed yet, then
recompute every filed document's SHA-256; report the first that differs per application and
exit 1 if any does (every application with a loan file when none is named)."""

import sys

from django.core.management.base import BaseCommand

from applications.models import LoanApplication
from contracts.loanfile import loan_file_record, loan_file_verify


class Command(BaseCommand):
    help = "Verify the hashes of the loan file's documents."

    def add_arguments(self, parser):
        parser.add_argument("application_ids", nargs="*", type=int)

    def handle(self, *args, application_ids=(), **options):
        applications = LoanApplication.objects.select_related("company")
        if application_ids:
            applications = applications.filter(pk__in=application_ids)
        else:
            applications = applications.filter(archive_entries__isnull=False).distinct()
        failed = False
        for application in applications.order_by("pk"):
            loan_file_record(application=application)
            mismatch = loan_file_verify(application=application)
            if mismatch is None:
                self.stdout.write(f"{application.reference}: every document verified")
                continue
            failed = True
            self.stderr.write(
                f"{application.reference}: {mismatch.source} ({mismatch.filename}) was filed "
                f"with {mismatch.expected}, is now {mismatch.found}"
            )
        if failed:
            sys.exit(1)
