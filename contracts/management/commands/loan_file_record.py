"""manage.py loan_file_record [application id ...]: file every document not filed yet in the
loan file of the named applications (every submitted application when none is named); what
the nightly job does, for an operator to run by hand after an outage."""

from django.core.management.base import BaseCommand

from applications.models import LoanApplication
from contracts.loanfile import loan_file_record, loan_files_record_all


class Command(BaseCommand):
    help = "File the documents of loan files not filed yet."

    def add_arguments(self, parser):
        parser.add_argument("application_ids", nargs="*", type=int)

    def handle(self, *args, application_ids=(), **options):
        if not application_ids:
            self.stdout.write(f"{loan_files_record_all()} documents filed")
            return
        for application in LoanApplication.objects.filter(pk__in=application_ids).order_by("pk"):
            filed = loan_file_record(application=application)
            self.stdout.write(f"{application.reference}: {len(filed)} documents filed")
