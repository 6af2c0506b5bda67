import json

from django import template

from datasources import selectors
from datasources.models import Consent, Source, SourceFact, SourceQuery

register = template.Library()


@register.simple_tag
def sources_panel(application, user):
    """The workspace's panel: each source with its consent and latest call, every call (who
    asked, why, when, pending or arrived), the facts to confirm, and the consents."""
    queries = list(selectors.queries_of(application=application)[:20])
    route = selectors.data_route_of(application=application)
    return {
        "route": route,
        "route_reasons": selectors.data_route_reasons_text(route.reasons) if route else "",
        "sources": selectors.source_panel(application=application),
        "queries": queries,
        # While a call is pending the section refreshes itself (htmx) until the answers arrive.
        "pending": any(q.status == SourceQuery.Status.PENDING for q in queries),
        "facts": list(selectors.facts_of(application=application)),
        "consents": list(selectors.consents_of(application=application)),
        "needs_consent": list(selectors.requeries_needing_consent(application=application)),
        "choices": Source.choices,
        "is_investigator": application.investigator_id == getattr(user, "pk", None),
        "unconfirmed": SourceFact.Status.UNCONFIRMED,
        "granted": Consent.Status.GRANTED,
    }


@register.simple_tag
def portal_consent_panel(application):
    """The owner's consents for the application, and the sources they may authorise."""
    return {
        "consents": list(selectors.consents_of(application=application)),
        "choices": Source.choices,
        "granted": Consent.Status.GRANTED,
    }


@register.filter
def as_json(value) -> str:
    """An answer as received, indented for reading (escaped by the template)."""
    return json.dumps(value, ensure_ascii=False, indent=1, sort_keys=True)
