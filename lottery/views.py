"""The resident's lottery pages: apply for a slot, my applications (withdraw, confirm or give up a win), and a
draw's published record. Thin: parse, call lottery.selectors or lottery.services, render; every POST redirects
(Post/Redirect/Get), so the back button and a refresh never apply twice."""

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config import clock
from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, describe_slot, parse_month, slot_address

from . import selectors, services
from .models import Application


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def apply(request, municipality, unit_id, day, span):
    try:
        muni, unit, use_date, starts_at, ends_at, week = slot_address(request, municipality, unit_id, day, span)
    except BadInput as error:
        return bad_request(request, str(error))
    status = 200
    if request.method == "POST":
        try:
            application = services.apply(user=request.user, unit=unit, starts_at=starts_at, ends_at=ends_at)
        except services.LotteryError as error:
            refusals, status = error.refusals, 422
        else:
            messages.success(
                request,
                _(
                    "Applied for the lottery: %(facility)s, %(unit)s, %(date)s %(start)s–%(end)s "
                    "(application no. %(id)s)."
                )
                % {**describe_slot(unit, starts_at, ends_at), "id": application.id},
            )
            return redirect("lottery:mine", municipality=muni.slug)
    check = services.evaluate(user=request.user, unit=unit, starts_at=starts_at, ends_at=ends_at)
    if status == 200:
        refusals = check.refusals
    calendar = selectors.LotteryCalendar(muni.pk)
    month = services.month_of(use_date)
    return render(
        request,
        "lottery/apply.html",
        {
            "municipality": muni,
            "unit": unit,
            "week": week,
            "when": describe_slot(unit, starts_at, ends_at),
            "refusals": refusals,
            "allowed": not refusals,
            "applications": selectors.application_counts(unit=unit, start=starts_at, end=ends_at).get(starts_at, 0),
            "timeline": (timeline := calendar.timeline(month)),
            "month_label": services.month_label(month),
            # The window closes after the minute it names (K-LOT-1 "…19th 23:59"): show that last minute.
            "applications_until": timeline.applications_close - dt.timedelta(minutes=1) if timeline else None,
            "allowances": selectors.allowances(user=request.user, municipality=muni, month=month, calendar=calendar),
        },
        status=status,
    )


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def my_applications(request, municipality):
    muni = facility_selectors.get_municipality(municipality)
    return render(
        request,
        "lottery/mine.html",
        {
            "municipality": muni,
            "months": selectors.my_applications(municipality=muni, user=request.user),
        },
    )


ACTIONS = {
    "withdraw": (services.withdraw, gettext_lazy("Application no. %(id)s withdrawn.")),
    "confirm": (
        services.confirm_win,
        gettext_lazy("Win confirmed: application no. %(id)s is now a booking; see “My bookings”."),
    ),
    "forfeit": (
        services.forfeit_win,
        gettext_lazy("Win given up: the slot of application no. %(id)s is free for others."),
    ),
}


@login_required
@require_POST
def act(request, municipality, application_id, action):
    muni = facility_selectors.get_municipality(municipality)
    if action not in ACTIONS:
        raise Http404(_("No such action."))
    application = selectors.get_my_application(municipality=muni, user=request.user, application_id=application_id)
    service, done = ACTIONS[action]
    try:
        service(user=request.user, application_id=application.pk)
    except services.LotteryError as error:
        for refusal in error.refusals:
            messages.error(
                request, _("Not done: %(message)s (%(code)s)") % {"message": refusal.message, "code": refusal.code}
            )
    except Application.DoesNotExist:
        messages.error(request, _("You have no such lottery application here."))
    else:
        messages.success(request, str(done) % {"id": application.pk})
    return redirect("lottery:mine", municipality=muni.slug)


def _draw(request, municipality, month):
    muni = facility_selectors.get_municipality(municipality)
    year, number = parse_month(month)
    return muni, selectors.published_draw(municipality=muni, month=dt.date(year, number, 1))


@never_cache
def draw_page(request, municipality, month):
    try:
        muni, draw = _draw(request, municipality, month)
    except BadInput as error:
        return bad_request(request, str(error))
    now = clock.now()
    return render(
        request,
        "lottery/draw.html",
        {
            "municipality": muni,
            "draw": draw,
            "document": services.export_document(draw, now),
            "month_label": services.month_label(draw.month),
            "revealed": draw.seed_revealed(now),
        },
    )


@never_cache
def draw_json(request, municipality, month):
    try:
        _muni, draw = _draw(request, municipality, month)
    except BadInput as error:
        return JsonResponse({"code": "bad_request", "message": str(error)}, status=400)
    return JsonResponse(services.export_document(draw), json_dumps_params={"ensure_ascii": False, "indent": 1})
