"""Find a slot (issue #8 item 1) and favourite facilities: thin views over ``facilities.search`` and
``facilities.favourites``.

The search is a GET form, so its address can be shared and the back button returns to the same results. Starring
a facility is a POST that redirects back (Post/Redirect/Get) and needs no JavaScript.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config import clock

from . import favourites, search, selectors

SEARCH_FIELDS = set(search.SearchForm.base_fields)


@never_cache  # bookings change the answers: going back must fetch them again
@require_GET
def search_page(request, municipality):
    muni = selectors.get_municipality(municipality)
    units = search.municipality_units(muni)
    kinds = search.kind_choices(units)
    context = {
        "municipality": muni,
        "max_days": search.MAX_DAYS,
        "page_size": search.PAGE_SIZE,
        "max_results": search.MAX_RESULTS,
    }
    if not SEARCH_FIELDS & set(request.GET):
        # No search yet: the empty form, today's date filled in.
        form = search.SearchForm(kinds=kinds, initial={"date_from": clock.today()})
        return render(request, "facilities/search.html", {**context, "form": form})
    form = search.SearchForm(request.GET, kinds=kinds)
    if not form.is_valid():
        return render(request, "facilities/search.html", {**context, "form": form}, status=400)
    found = search.search(
        municipality=muni,
        criteria=search.Criteria.from_form(form.cleaned_data),
        user=request.user,
        page_number=request.GET.get("page") or 1,
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "facilities/search.html",
        {
            **context,
            "form": form,
            "found": found,
            "page": found.page,
            "query": query.urlencode(),
            "search_url": request.get_full_path(),
        },
    )


@login_required
@require_POST
def favourite(request, municipality, facility_code):
    """POST ``starred=1`` stars the facility, ``starred=0`` unstars it; back to ``next`` when it is a
    path of this site, else to the facility's page."""
    muni = selectors.get_municipality(municipality)
    facility = selectors.get_facility(municipality=muni, code=facility_code)
    starred = request.POST.get("starred") == "1"
    favourites.set_favourite(user=request.user, facility=facility, starred=starred)
    if starred:
        messages.success(request, _("%(facility)s is now one of your favourites.") % {"facility": facility.name})
    else:
        messages.success(request, _("%(facility)s is no longer one of your favourites.") % {"facility": facility.name})
    return HttpResponseRedirect(
        same_site_path(request, request.POST.get("next", ""))
        or reverse("facilities:facility", args=[muni.slug, facility.code])
    )


def same_site_path(request, target: str) -> str | None:
    """``target`` when it is a path of this site ("/kodaira/?x=1"), else None. Only paths: ``redirect()`` would
    take a bare word ("abc") for a URL name and fail, and a full address could lead off the site."""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return None
