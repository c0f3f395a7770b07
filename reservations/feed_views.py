"""Calendar pages (issue #8 item 3): the private feed's page (issue, re-issue, revoke), the feed itself (no
session: the secret key in the address is the credential) and a booking's "add to calendar" file.

Thin: reads and writes in reservations/calendar_feed.py. Post/Redirect/Get; the new key waits in the session
for the redirect after issuing and is shown once, like the API tokens (accounts/views.py).
"""

from allauth.account.decorators import reauthentication_required
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from accounts import credentials
from facilities import selectors as facility_selectors

from . import calendar_feed, selectors
from .models import CalendarFeed

NEW_FEED_SESSION_KEY = "reservations.new_calendar_feed"
CALENDAR_TYPE = "text/calendar; charset=utf-8"


def _own_municipality(request, slug: str):
    """The municipality of the address, which must be the user's own: a feed lists the bookings of one account,
    and an account belongs to one municipality."""
    muni = facility_selectors.get_municipality(slug)
    if request.user.municipality_id != muni.id:
        raise Http404(_("Your account is registered with another municipality."))
    return muni


def _feed_url(request, muni, key: str) -> str:
    return request.build_absolute_uri(reverse("reservations:calendar_feed", args=[muni.slug, key]))


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def calendar_page(request, municipality):
    muni = _own_municipality(request, municipality)
    feed = calendar_feed.active_feed(user=request.user)
    new = request.session.pop(NEW_FEED_SESSION_KEY, None)
    new_url = webcal_url = ""
    if new and feed is not None and new.get("id") == feed.pk:
        new_url = _feed_url(request, muni, new["key"])
        webcal_url = "webcal://" + new_url.split("://", 1)[1]
    response = render(
        request,
        "reservations/calendar_feed.html",
        {
            "municipality": muni,
            "feed": feed,
            "new_url": new_url,
            "webcal_url": webcal_url,
        },
    )
    # The page may show the secret address: no Referer to other sites. ("no-referrer" would also make the
    # browser send "Origin: null" with the page's own forms, which CSRF protection refuses.)
    response["Referrer-Policy"] = "same-origin"
    return response


@require_POST
@login_required
@reauthentication_required
def issue(request, municipality):
    """Issue (or re-issue) the feed. A log-in older than ACCOUNT_REAUTHENTICATION_TIMEOUT is asked for the password
    (or PIN) first; allauth keeps this POST in the session and runs it once the password is right."""
    muni = _own_municipality(request, municipality)
    had_one = calendar_feed.active_feed(user=request.user) is not None
    try:
        row, key = calendar_feed.issue_feed(user=request.user)
    except credentials.CredentialRefused as refused:
        messages.error(request, refused.message)
        return redirect("reservations:calendar_page", municipality=muni.slug)
    request.session[NEW_FEED_SESSION_KEY] = {"id": row.pk, "key": key}
    if had_one:
        messages.success(request, _("A new calendar address is ready. The old one no longer works."))
    else:
        messages.success(request, _("Your calendar address is ready."))
    return redirect("reservations:calendar_page", municipality=muni.slug)


@require_POST
@login_required
def revoke(request, municipality):
    muni = _own_municipality(request, municipality)
    if calendar_feed.revoke_feed(user=request.user):
        messages.success(request, _("The calendar address is revoked: calendar apps can no longer read it."))
    return redirect("reservations:calendar_page", municipality=muni.slug)


@never_cache
@require_http_methods(["GET", "HEAD"])
def feed(request, municipality, key):
    """The feed: no session; an unknown, malformed or revoked key is a 404, the same for all."""
    muni = facility_selectors.get_municipality(municipality)
    row = CalendarFeed.objects.find(key)
    if row is None or row.user.municipality_id != muni.id:
        raise Http404(_("No calendar at this address."))
    row.touch()
    user = row.user
    language = user.language or "ja"
    body = calendar_feed.build_calendar(
        calendar_feed.feed_reservations(user=user, municipality=muni),
        host=calendar_feed.host_name(request),
        language=language,
        name=_calendar_name(muni, language),
        link=request.build_absolute_uri(reverse("reservations:my_bookings", args=[muni.slug])),
    )
    response = HttpResponse(body, content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = 'inline; filename="yoyaku.ics"'
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def booking_file(request, municipality, booking_id):
    """One booking as an "add to calendar" file: the owner's only (anyone else's, or a cancelled one: 404)."""
    muni = facility_selectors.get_municipality(municipality)
    row = selectors.get_my_booking(municipality=muni, user=request.user, booking_id=booking_id)
    if not row.reservation.is_active:
        raise Http404(_("This booking is cancelled."))
    language = get_language() or "ja"
    body = calendar_feed.build_calendar(
        [row.reservation],
        host=calendar_feed.host_name(request),
        language=language,
        name=_calendar_name(muni, language),
        link=request.build_absolute_uri(reverse("reservations:my_bookings", args=[muni.slug])),
    )
    response = HttpResponse(body, content_type=CALENDAR_TYPE)
    response["Content-Disposition"] = f'attachment; filename="yoyaku-{row.reservation.pk}.ics"'
    return response


def _calendar_name(muni, language: str) -> str:
    with translation.override(language):
        return _("My bookings (%(municipality)s)") % {"municipality": muni.name}
