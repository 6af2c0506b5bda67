"""Process measurement. One StageVisit row per stay of an application in a stage, written when the
stage ends (applications.effects), so every figure is an aggregate over this table instead of a
reconstruction of the audit trail with window functions."""

import math
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Case, Q, Value, When
from django.db.models.functions import Cast, Floor, Ln
from django.utils.translation import gettext_lazy as _

from analytics import stats
from applications.models import Status
from common.i18n import Bilingual
from postloan.models import Classification

ZERO4 = Decimal("0")
ONE = Decimal("1")

# The stages whose time is measured, in process order. An application waiting on the
# applicant (info_requested) is measured as a stage of its own. Time after disbursement is the
# loan's life, not process time, so no visit is opened for it.
MEASURED_STAGES = (
    Status.DRAFT,
    Status.SUBMITTED,
    Status.INVESTIGATION,
    Status.IN_APPROVAL,
    Status.INFO_REQUESTED,
    Status.APPROVED,
    Status.CONTRACT_SIGNED,
)

# The columns the figures read beside left_at (analytics.selectors).
VISIT_FIGURE_COLUMNS = [
    "stage",
    "business_bucket",
    "calendar_bucket",
    "business_seconds",
    "calendar_seconds",
    "is_rework",
    "previous_left_at",
    "previous_rework_left_at",
    "application",
    "actor",
    "branch",
    "product",
    "route",
    "relationship_manager",
]


def duration_bucket(column: str):
    """The log-scale bucket of a duration column (stats.bucket_of), as the database computes
    it: -1 for zero or no duration."""
    scale = Value(stats.BUCKETS_PER_DOUBLING / math.log(2))
    return Case(
        When(**{f"{column}__gte": 1}, then=Cast(Floor(Ln(column) * scale), models.IntegerField())),
        default=Value(-1),
        output_field=models.IntegerField(),
    )


class StageVisit(models.Model):
    application = models.ForeignKey(
        "applications.LoanApplication",
        verbose_name=_("application"),
        on_delete=models.CASCADE,
        related_name="stage_visits",
    )
    stage = models.CharField(_("stage"), max_length=30)
    entered_at = models.DateTimeField(_("entered"))
    left_at = models.DateTimeField(_("left"), null=True, blank=True)
    calendar_seconds = models.BigIntegerField(_("calendar seconds"), null=True, blank=True)
    business_seconds = models.BigIntegerField(_("business seconds"), null=True, blank=True)
    # The histogram bucket of each duration, kept by the database (a stored generated column)
    # so that a figure reads it from the covering index instead of computing a logarithm for
    # each of millions of visits.
    business_bucket = models.GeneratedField(
        expression=duration_bucket("business_seconds"),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("business time bucket"),
    )
    calendar_bucket = models.GeneratedField(
        expression=duration_bucket("calendar_seconds"),
        output_field=models.SmallIntegerField(),
        db_persist=True,
        verbose_name=_("calendar time bucket"),
    )
    # False while business_seconds is only the calendar time because no business calendar was
    # available when the stage ended; analytics_recompute_business_time fills it in later.
    business_time_exact = models.BooleanField(_("business time exact"), default=False)
    # Who ended the stage (took the transition): the person who did this stage's work.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_role = models.CharField(_("role"), max_length=40, blank=True)
    # Denormalised at the time the stage ended, so figures filter without joins.
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )
    product = models.ForeignKey(
        "applications.Product",
        verbose_name=_("product"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    route = models.CharField(_("route"), max_length=20, blank=True)
    # The case's relationship manager when the stage ended: the RM results count the stages
    # of each RM's cases (and their rework) by it.
    relationship_manager = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("relationship manager"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    transition = models.CharField(_("ended by"), max_length=40, blank=True)
    outcome = models.CharField(_("next state"), max_length=30, blank=True)
    is_rework = models.BooleanField(
        _("rework"),
        default=False,
        help_text=_(
            "The stage ended by going back to an earlier stage or by asking the "
            "applicant for information."
        ),
    )
    # Set when the visit ends. A period's visits of a stage count each application once by
    # keeping those whose previous visit of the stage ended before the period: an exact
    # distinct count without COUNT(DISTINCT), which would sort every visit of the period.
    previous_left_at = models.DateTimeField(
        _("previous visit left"),
        null=True,
        blank=True,
        help_text=_(
            "When the application last left this stage before this visit (empty "
            "for its first visit)."
        ),
    )
    previous_rework_left_at = models.DateTimeField(
        _("previous rework left"),
        null=True,
        blank=True,
        help_text=_(
            "When the application's last rework visit of this stage before this "
            "visit ended (empty if there was none)."
        ),
    )
    # The same over all the measured stages: a period's visits count each application once,
    # whatever the stages it went through, by keeping those whose application left no
    # measured stage since the period began (the scorecard's first-time-right).
    application_previous_left_at = models.DateTimeField(
        _("application's previous visit left"),
        null=True,
        blank=True,
        help_text=_(
            "When the application last left any measured stage before this visit ended "
            "(empty for its first visit)."
        ),
    )
    application_previous_rework_left_at = models.DateTimeField(
        _("application's previous rework left"),
        null=True,
        blank=True,
        help_text=_(
            "When the application's last rework visit of any measured stage before this "
            "visit ended (empty if there was none)."
        ),
    )

    class Meta:
        verbose_name = _("stage visit")
        verbose_name_plural = _("stage visits")
        ordering = ["entered_at", "id"]
        indexes = [
            # Every figure: the visits of the measured stages completed in a period. It covers
            # what the figures read, so they scan only the period's index entries (index-only
            # scans), and its condition spares them testing each entry's stage. Led by left_at,
            # visits end at its right edge and its pages stay full; led by stage, seven
            # insertion points split its pages in half.
            models.Index(
                fields=["left_at"],
                name="visit_left_cover",
                include=VISIT_FIGURE_COLUMNS,
                condition=Q(left_at__isnull=False, stage__in=[str(s) for s in MEASURED_STAGES]),
            ),
            # The scorecard's visits by stage and actor (selectors.visits_by_stage_and_actor)
            # read a year of visits in each of two periods: from this index, which holds only
            # what that grouping and the filters read, a third of the size of the one above,
            # they scan in half the time (docs/performance.md).
            models.Index(
                fields=["left_at"],
                name="visit_left_by_actor",
                include=[
                    "stage",
                    "actor",
                    "is_rework",
                    "business_seconds",
                    "application_previous_left_at",
                    "application_previous_rework_left_at",
                    "branch",
                    "product",
                    "route",
                ],
                condition=Q(left_at__isnull=False, stage__in=[str(s) for s in MEASURED_STAGES]),
            ),
            models.Index(
                fields=["branch", "left_at"],
                name="visit_branch_left",
                condition=Q(left_at__isnull=False),
            ),
            models.Index(fields=["application", "entered_at"], name="visit_app_entered"),
            # Workload: what is in each stage now.
            models.Index(
                fields=["stage", "branch"],
                name="visit_open_stage",
                condition=Q(left_at__isnull=True),
            ),
            models.Index(
                fields=["business_time_exact"],
                name="visit_business_pending",
                condition=Q(business_time_exact=False, left_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["application"],
                condition=Q(left_at__isnull=True),
                name="visit_one_open_per_application",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.application_id} {self.stage} {self.entered_at:%Y-%m-%d %H:%M}"


class ScorecardMetric(Bilingual, models.Model):
    """A balanced-scorecard metric, configured by administrators: which figure it follows (a
    key of analytics.scorecard.METRIC_FIGURES, whose computations are code), its perspective,
    which direction is good, its target and its weight in the perspective's score."""

    class Perspective(models.TextChoices):
        FINANCIAL = "financial", _("Financial")
        CUSTOMER = "customer", _("Customer")
        INTERNAL_PROCESS = "internal_process", _("Internal process")
        LEARNING_GROWTH = "learning_growth", _("Learning and growth")

    class Direction(models.TextChoices):
        HIGHER = "higher", _("Higher is better")
        LOWER = "lower", _("Lower is better")

    code = models.SlugField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    name_zh = models.CharField(_("Chinese name"), max_length=200, blank=True)
    perspective = models.CharField(_("perspective"), max_length=20, choices=Perspective.choices)
    figure = models.CharField(
        _("figure"),
        max_length=40,
        help_text=_("Which computation gives the value (analytics.scorecard.METRIC_FIGURES)."),
    )
    direction = models.CharField(
        _("direction"), max_length=10, choices=Direction.choices, default=Direction.HIGHER
    )
    target = models.DecimalField(_("target"), max_digits=18, decimal_places=4, default=ZERO4)
    weight = models.DecimalField(_("weight"), max_digits=8, decimal_places=2, default=ONE)
    unit = models.CharField(_("unit"), max_length=20, blank=True)
    order = models.PositiveIntegerField(_("order"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("scorecard metric")
        verbose_name_plural = _("scorecard metrics")
        ordering = ["perspective", "order", "code"]

    def __str__(self) -> str:
        return f"{self.get_perspective_display()}: {self.localized('name')}"

    def clean(self):
        from analytics.scorecard import METRIC_FIGURES

        if self.figure not in METRIC_FIGURES:
            raise ValidationError({"figure": _("There is no such figure.")})
        if self.weight is not None and self.weight < 0:
            raise ValidationError({"weight": _("The weight cannot be negative.")})


class ProvisionRate(models.Model):
    """The provision rate of a five-category class, for the scorecard's provisions figure
    (outstanding principal of the class x its rate)."""

    classification = models.CharField(
        _("classification"), max_length=20, choices=Classification.choices, unique=True
    )
    rate_pct = models.DecimalField(
        _("provision rate (%)"),
        max_digits=6,
        decimal_places=2,
        validators=[MinValueValidator(0), MaxValueValidator(100)],
    )

    class Meta:
        verbose_name = _("provision rate")
        verbose_name_plural = _("provision rates")
        ordering = ["classification"]

    def __str__(self) -> str:
        return f"{self.get_classification_display()} {self.rate_pct}%"


class TrainingRecord(models.Model):
    """Training a staff member attended: the learning and growth perspective's hours per
    person."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff member"),
        on_delete=models.CASCADE,
        related_name="training_records",
    )
    date = models.DateField(_("date"))
    hours = models.DecimalField(
        _("hours"), max_digits=6, decimal_places=2, validators=[MinValueValidator(0)]
    )
    topic = models.CharField(_("topic"), max_length=200)

    class Meta:
        verbose_name = _("training record")
        verbose_name_plural = _("training records")
        ordering = ["-date", "id"]

    def __str__(self) -> str:
        return f"{self.user} {self.date} {self.topic}"


class LoanMonthEnd(models.Model):
    """A loan's position at the end of a month, for the vintage curves: outstanding principal
    and days past due as postloan.position computes them from the schedule and the repayments
    with value dates up to that day (analytics.services.loan_month_ends_record). Written for
    the month just ended by the nightly job on the first of the month, and for the months
    before it by `manage.py analytics_vintage_backfill`. History is kept because the loan's
    own row holds only today's position, and recomputing every month end of every loan on each
    request cost far more than the 2 s a figure may take."""

    loan = models.ForeignKey(
        "postloan.Loan", verbose_name=_("loan"), on_delete=models.CASCADE, related_name="+"
    )
    month_end = models.DateField(_("month end"))
    # The first day of the quarter of disbursement, and the months since the disbursement's
    # month (0 at the end of that month).
    cohort = models.DateField(_("vintage (quarter)"))
    months_on_book = models.PositiveSmallIntegerField(_("months on book"))
    outstanding_principal = models.DecimalField(
        _("outstanding principal"), max_digits=18, decimal_places=2
    )
    days_past_due = models.PositiveIntegerField(_("days past due"))
    # Denormalised from the loan, so the figure's scope needs no join.
    branch = models.ForeignKey(
        "org.Branch", verbose_name=_("branch"), on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("loan position at month end")
        verbose_name_plural = _("loan positions at month end")
        ordering = ["month_end", "loan"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "month_end"], name="loan_month_end_once"),
        ]
        indexes = [
            models.Index(
                fields=["cohort", "months_on_book"],
                name="loan_month_end_vintage",
                include=["outstanding_principal", "days_past_due", "branch", "loan"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.month_end}"
