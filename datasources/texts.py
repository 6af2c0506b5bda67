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
    "data_route_started": _("Sources queried automatically at the online submission"),
    "data_fast_track_refused": _("Not decided on external data: normal route"),
    "data_route_taken_over": _("Taken over from the data-driven route by a person"),
}

# Why an application did not take the data-driven route (models.DataRoute.reasons; the first
# seven are investigation.services.data_route_refusals' codes).
DATA_ROUTE_REASONS = {
    "product": _("The product does not allow the fast track on external data."),
    "not_online_by_owner": _("Not an online application filed by the owner."),
    "sources_missing": _("Not every source answered (the consent does not cover all four)."),
    "high_source_flag": _("A source reported bad news (a high flag)."),
    "grade": _("The risk grade is outside the fast track's grades."),
    "amount": _("The amount is above the fast track's cap."),
    "flags": _("The checks raised flags."),
    "route": _("The scoring did not recommend the fast track."),
    "incomplete": _(
        "Something the approval needs is missing (a guarantor not assessed, collateral not valued)."
    ),
    "no_consent": _("The owner has not consented to the checks: no source was queried."),
    "source_failed": _("A source did not answer after every retry."),
    "documents": _("Documents are not yet accepted by the bank."),
    "taken_over": _("A person acted on the case first: the system left it to them."),
    "not_submitted": _("The application left submission before the answers arrived."),
}
