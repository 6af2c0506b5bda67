"""Words the other apps show for external data: what each flag raised from the sources says
(investigation.models.FLAG_MESSAGES holds these with the investigation's own; the parameters
are kept in Flag.params), and the audit trail's labels for this app's actions
(applications.labels.ACTION_LABELS). Imports no model."""

from django.utils.translation import gettext_lazy as _

SOURCE_FLAG_MESSAGES = {
    "bureau_overdue": _(
        "The credit bureau reports %(count)s overdue loan(s) in 24 months, the longest "
        "%(days)s days overdue."
    ),
    "bureau_personal_overdue": _(
        "The legal representative's personal credit report shows %(count)s overdue "
        "payment(s) in 24 months."
    ),
    "bureau_guarantee_exposure": _(
        "The company guarantees %(total)s for others (limit %(limit)s)."
    ),
    "tax_grade": _("The tax credit grade for %(period)s is %(grade)s."),
    "registry_status": _("The business registry shows the company as %(status)s."),
    "registry_abnormal": _("The company is on the list of abnormal operation since %(since)s."),
    "registry_recent_change": _("The %(item)s changed on %(on)s, within the last year."),
    "court_dishonest": _("The company is on the dishonest-debtor list (%(case)s)."),
    "court_enforcement": _("%(count)s enforcement case(s) are open against the company."),
    "court_lawsuit": _("The company is the defendant in %(count)s lawsuit(s)."),
}

SOURCE_ACTION_LABELS = {
    "datasource_consent_grant": _("Consent to query external data given"),
    "datasource_consent_revoke": _("Consent to query external data revoked"),
    "datasource_query": _("Queried an external source"),
    "datasource_answer": _("An external source answered"),
    "datasource_failed": _("An external source did not answer"),
    "datasource_fact_confirm": _("Confirmed a fact from an external source"),
    "datasource_fact_mismatch": _("Recorded a mismatch with an external source"),
}
