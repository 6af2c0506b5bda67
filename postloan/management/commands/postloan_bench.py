"""Seed N synthetic disbursed loans (set-based) and time the daily job.

    DATABASE_URL=postgres://.../lf_bench manage.py postloan_bench --loans 200000

Refuses to run unless the database name contains "bench" (it writes a lot of rows)."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.utils import timezone

from postloan.daily import daily_run


class Command(BaseCommand):
    help = "Seed synthetic loans and time postloan.daily.daily_run (benchmark databases only)."

    def add_arguments(self, parser):
        parser.add_argument("--loans", type=int, default=200_000)
        parser.add_argument("--instalments", type=int, default=12)

    def handle(self, *args, loans: int, instalments: int, **options):
        if "bench" not in connection.settings_dict["NAME"]:
            raise CommandError("Run against a database whose name contains 'bench'.")
        from applications.models import LoanApplication
        from postloan import demo
        from postloan.models import Loan
        from tests.factories import ApplicationFactory, BranchFactory, CompanyFactory

        demo.seed()
        today = timezone.localdate()
        with transaction.atomic():
            if not Loan.objects.exists():
                branch = BranchFactory(code="BENCH", name="Bench branch")
                template = ApplicationFactory(
                    company=CompanyFactory(home_branch=branch),
                    status="disbursed",
                    disbursed_at=timezone.now(),
                )
                started = time.monotonic()
                self._clone_applications(template, loans)
                self._loans_and_schedules(today, instalments)
                self.stdout.write(f"seeded {loans} loans in {time.monotonic() - started:.1f}s")
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        active = Loan.objects.filter(status="active").count()
        for run in (1, 2):
            counts = daily_run()
            self.stdout.write(f"run {run}: {active} active loans: {counts}")
        del LoanApplication

    def _clone_applications(self, template, n: int) -> None:
        table = template._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_name = %s ORDER BY ordinal_position",
                [table],
            )
            columns = [row[0] for row in cursor.fetchall() if row[0] != "id"]
            select = ", ".join(
                "'B' || lpad(g::text, 9, '0')" if c == "reference" else f"t.{c}" for c in columns
            )
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} "
                f"FROM {table} t, generate_series(1, %s) g WHERE t.id = %s",
                [n - 1, template.pk],
            )

    def _loans_and_schedules(self, today, instalments: int) -> None:
        with connection.cursor() as cursor:
            # Disbursed 1-11 months ago; each loan's schedule has `instalments` of 10,000.
            cursor.execute(
                """
                INSERT INTO postloan_loan
                    (application_id, branch_id, relationship_manager_id, company_id,
                     interest_rate, term_months, status, currency, principal, disbursed_on,
                     scheduled_total, paid_total, outstanding_total, outstanding_principal,
                     paid_instalments, days_past_due, classification, litigation_flag,
                     guarantor_trouble_flag, flags_note, created_at)
                SELECT a.id, a.branch_id, a.relationship_manager_id, a.company_id,
                       a.interest_rate, a.term_months, 'active', 'CNY',
                       %(n)s * 10000, %(today)s::date - (30 * (1 + a.id %% 11))::int,
                       0, 0, 0, %(n)s * 10000, 0, 0, 'normal', a.id %% 997 = 0,
                       false, '', now()
                FROM applications_loanapplication a WHERE a.status = 'disbursed'
            """,
                {"n": instalments, "today": today},
            )
            cursor.execute(
                """
                INSERT INTO disbursement_instalment
                    (application_id, number, due_date, principal, interest, total, currency)
                SELECT l.application_id, g, l.disbursed_on + 30 * g, 10000, 500, 10500, 'CNY'
                FROM postloan_loan l, generate_series(1, %(n)s) g
            """,
                {"n": instalments},
            )
            # Most loans are current; one in seven is one to four instalments behind.
            cursor.execute(
                """
                INSERT INTO postloan_repayment
                    (loan_id, amount, currency, value_date, source, recorded_by_id, created_at)
                SELECT l.id,
                       10500 * GREATEST(0, ((%(today)s::date - l.disbursed_on) / 30)
                                        - CASE WHEN l.id %% 7 = 0 THEN 1 + l.id %% 4 ELSE 0 END),
                       'CNY', %(today)s::date, 'import', l.relationship_manager_id, now()
                FROM postloan_loan l
                WHERE (%(today)s::date - l.disbursed_on) / 30 > 0
            """,
                {"today": today},
            )
            cursor.execute("DELETE FROM postloan_repayment WHERE amount <= 0")
