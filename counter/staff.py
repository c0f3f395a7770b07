"""Who may use the counter console (窓口) of a municipality: its active staff, nobody else.

``clerk_view`` wraps a counter page. It resolves ``<municipality>`` from the address and answers:
- not logged in → the log-in page (then back here);
- logged in but not a clerk of *this* municipality → 404, the same answer as for an address that does not
  exist, so a clerk of Shiroi cannot even learn which Kodaira pages or ids exist (issue #6, item 5).
The view receives the ``Municipality`` instead of the slug.
"""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from facilities.models import Municipality


def clerk_view(view):
    @login_required
    @never_cache
    @wraps(view)
    def wrapper(request, municipality: str, *args, **kwargs):
        muni = get_object_or_404(Municipality, slug=municipality)
        if not request.user.is_clerk_of(muni.pk):
            raise Http404
        return view(request, muni, *args, **kwargs)

    return wrapper


def refusal_messages(request, refusals) -> None:
    """Each refusal of a counter action as an error message on the next page: the sentence, and its rule id as a
    small reference when it has one (a system code is never shown, issue #22 item 4)."""
    from counter.templatetags.counter_tags import rule_ref

    for refusal in refusals:
        messages.error(
            request, format_html("{}{}", _("Not done: %(message)s") % {"message": refusal.message}, rule_ref(refusal))
        )
