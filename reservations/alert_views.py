"""Cancellation alert pages (issue #8 item 2): "My alerts", the pattern form, watching a taken slot from the week
grid, stopping a watch.

Thin: parse, call reservations/alerts.py, render or redirect (Post/Redirect/Get; nothing needs JavaScript).
A user's alerts live under their own municipality (an account belongs to one); another municipality's address,
or another user's watch, is a 404.
"""

import datetime as dt

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from config import clock
from facilities import selectors as facility_selectors
from facilities.addresses import BadInput, bad_request, slot_address
from facilities.models import Unit

from . import alerts
from .models import SlotWatch


def _own_municipality(request, slug: str):
    muni = facility_selectors.get_municipality(slug)
    if request.user.municipality_id != muni.id:
        raise Http404(_("Your account is registered with another municipality."))
    return muni


def _base_url(request) -> str:
    return request.build_absolute_uri("/")


@login_required
@never_cache
@require_http_methods(["GET", "HEAD"])
def alert_list(request, municipality):
    muni = _own_municipality(request, municipality)
    watches = alerts.my_watches(user=request.user, municipality_id=muni.id)
    return render(request, "reservations/alerts.html", {"municipality": muni, "watches": watches})


@require_POST
@login_required
def stop(request, municipality, watch_id):
    muni = _own_municipality(request, municipality)
    try:
        alerts.stop_watch(user=request.user, municipality_id=muni.id, watch_id=watch_id)
    except SlotWatch.DoesNotExist:
        raise Http404(_("You have no such alert.")) from None
    messages.success(request, _("The alert is stopped."))
    return redirect("reservations:alerts", municipality=muni.slug)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def watch_slot(request, municipality, unit_id, day, span):
    """POST from a booked cell of the week grid: watch that slot; back to the week (?week=) with a message.
    GET (e.g. after logging in from a link): the week of that slot."""
    try:
        muni, unit, use_date, starts_at, ends_at, week = slot_address(request, municipality, unit_id, day, span)
    except BadInput as error:
        return bad_request(request, str(error))
    back = reverse("facilities:unit_week", args=[muni.slug, unit.id, week.isoformat()])
    if request.method != "POST":
        return redirect(back)
    _own_municipality(request, municipality)
    try:
        _watch, created = alerts.watch_slot(
            user=request.user, unit=unit, starts_at=starts_at, ends_at=ends_at, base_url=_base_url(request)
        )
    except alerts.AlertRefused as error:
        if error.refusal.code == "slot_free":  # someone cancelled meanwhile: straight to booking it
            messages.info(request, error.refusal.message)
            return redirect(
                reverse("reservations:confirm", args=[muni.slug, unit.id, day, span]) + f"?week={week.isoformat()}"
            )
        messages.error(
            request,
            # The sentence only: a code is for the API (error.refusal.code), not for people.
            _("No alert: %(message)s") % {"message": error.refusal.message},
        )
        return redirect(back)
    if created:
        messages.success(
            request,
            _("Alert set: we will e-mail you if this slot becomes free (%(facility)s %(unit)s, %(day)s %(span)s).")
            % {
                "facility": unit.facility.name,
                "unit": unit.name,
                "day": date_format(use_date, "DATE_FORMAT"),  # 2027年6月15日 / June 15, 2027
                "span": f"{span[:2]}:{span[2:4]}–{span[5:7]}:{span[7:]}",
            },
        )
    else:
        messages.info(request, _("You are already watching this slot."))
    return redirect(back)


# The pattern form ----------------------------------------------------------------------------------------------


def _where_choices(muni) -> list:
    """One select for "where", grouped by facility: any unit, any unit of one kind (when it has several kinds),
    one unit. Values: f:<facility>, k:<facility>:<kind>, u:<unit>."""
    choices = []
    for facility in facility_selectors.list_facilities(municipality=muni):
        units = list(facility.units.all())
        if not units:
            continue
        options = [(f"f:{facility.pk}", _("%(facility)s: any unit") % {"facility": facility.name})]
        kinds = sorted({u.kind for u in units})
        if len(kinds) > 1:
            labels = dict(Unit.Kind.choices)
            options += [
                (
                    f"k:{facility.pk}:{kind}",
                    _("%(facility)s: any %(kind)s") % {"facility": facility.name, "kind": labels.get(kind, kind)},
                )
                for kind in kinds
            ]
        options += [(f"u:{u.pk}", f"{facility.name} {u.name}") for u in units]
        choices.append((facility.name, options))
    return choices


class PatternForm(forms.Form):
    where = forms.ChoiceField(label=gettext_lazy("Where"))
    weekday = forms.TypedChoiceField(
        label=gettext_lazy("Day of the week"),
        required=False,
        coerce=int,
        empty_value=None,
        choices=[("", gettext_lazy("Any day")), *list(SlotWatch.Weekday.choices)],
    )
    time_from = forms.TimeField(
        label=gettext_lazy("From (time of day)"), widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M")
    )
    time_to = forms.TimeField(
        label=gettext_lazy("Until (time of day)"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=gettext_lazy("A slot must lie within these times. 00:00 as the end means midnight."),
    )
    date_from = forms.DateField(
        label=gettext_lazy("First day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )
    date_to = forms.DateField(
        label=gettext_lazy("Last day"), widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
    )

    def __init__(self, *args, municipality, **kwargs):
        super().__init__(*args, **kwargs)
        self.municipality = municipality
        self.fields["where"].choices = _where_choices(municipality)

    def pattern(self) -> alerts.Pattern:
        data = self.cleaned_data
        kind, _sep, rest = data["where"].partition(":")
        unit, unit_kind = None, ""
        if kind == "u":
            unit = facility_selectors.get_unit(municipality=self.municipality, unit_id=int(rest))
            facility = unit.facility
        else:
            facility_id, _sep, unit_kind = rest.partition(":")
            facility = next(
                f
                for f in facility_selectors.list_facilities(municipality=self.municipality)
                if f.pk == int(facility_id)
            )
        return alerts.Pattern(
            facility=facility,
            unit=unit,
            unit_kind=unit_kind,
            weekday=data.get("weekday"),
            from_minute=alerts.minute_of_day(data["time_from"], end=False),
            to_minute=alerts.minute_of_day(data["time_to"], end=True),
            date_from=data["date_from"],
            date_to=data["date_to"],
        )


def _initial(request, muni) -> dict:
    """Defaults, and what the facility page's link passes (?facility=<code>)."""
    today = clock.today()
    initial = {
        "time_from": dt.time(9),
        "time_to": dt.time(12),
        "date_from": today,
        "date_to": today + dt.timedelta(days=30),
    }
    code = request.GET.get("facility", "")
    if code:
        facility = next((f for f in facility_selectors.list_facilities(municipality=muni) if f.code == code), None)
        if facility is not None:
            initial["where"] = f"f:{facility.pk}"
    return initial


@login_required
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def new_pattern(request, municipality):
    muni = _own_municipality(request, municipality)
    status = 200
    if request.method == "POST":
        form = PatternForm(request.POST, municipality=muni)
        if form.is_valid():
            try:
                alerts.watch_pattern(user=request.user, pattern=form.pattern(), base_url=_base_url(request))
            except alerts.AlertRefused as error:
                form.add_error(None, f"{error.refusal.message} ({error.refusal.code})")
            else:
                messages.success(request, _("Alert set: we will e-mail you when a matching slot becomes free."))
                return redirect("reservations:alerts", municipality=muni.slug)
        status = 422
    else:
        form = PatternForm(initial=_initial(request, muni), municipality=muni)
    return render(request, "reservations/alerts_new.html", {"municipality": muni, "form": form}, status=status)
