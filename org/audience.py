"""Who a page is for. The staff pages are the bank's; an SME owner reaches only the pages
opened to owners (the portal's, and the few shared ones: downloads of their own documents
and PDFs, accepting the offer, their notifications, logging in and out). One middleware
keeps owners out of every other page, so a staff page added tomorrow needs no check of its
own. The API has the same rule in its default permission class (org.permissions.StaffOnly).
"""

from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.views.i18n import set_language

from org.selectors import is_sme_owner

# Django's own views an owner uses.
_OPEN_VIEWS = frozenset({set_language})


def open_to_owners(view):
    """Mark a page (a view class or function) an SME owner may open."""
    view.open_to_owners = True
    return view


def is_open_to_owners(view_func) -> bool:
    view = getattr(view_func, "view_class", None) or view_func
    return view_func in _OPEN_VIEWS or bool(getattr(view, "open_to_owners", False))


class OwnersStayInThePortalMiddleware:
    """An SME owner asking for a staff page is sent to the portal (GET) or refused (403);
    API views are left to their permission classes, which see token users too."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if getattr(view_func, "cls", None) is not None:  # a DRF view
            return None
        if is_open_to_owners(view_func) or not is_sme_owner(request.user):
            return None
        if request.method in ("GET", "HEAD"):
            return redirect("portal-home")
        raise PermissionDenied
