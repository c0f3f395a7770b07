"""The form of the counter's page that marks a whole site's rain or heat stop (S-WX-1; counter.money_views.weather_day).

The same fields go in the address of the confirm step (a GET: bookmarkable, safe with the back button) and in
the POST that marks; the POST also carries the ids of the bookings the clerk was shown (``booking``), so only
those are marked. Errors are in the clerk's language."""

import datetime as dt
from urllib.parse import urlencode

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import WeatherClaim


class WeatherDayForm(forms.Form):
    facility = forms.ChoiceField(label=_("Facility"))
    date = forms.DateField(label=_("Day of use"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("What stopped the use"), choices=WeatherClaim.Kind.choices)
    start = forms.TimeField(
        label=_("Stopped from"),
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("When the rain began, or the WBGT reached 31, at the site."),
    )
    end = forms.TimeField(
        label=_("Until"),
        required=False,
        widget=forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        help_text=_("Empty: until now (today) or until the end of an earlier day."),
    )
    note = forms.CharField(label=_("Note"), max_length=200, required=False)

    QUERY_FIELDS = ("facility", "date", "kind", "start", "end", "note")

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.facilities = {f.code: f for f in facilities}
        self.fields["facility"].choices = [(f.code, f.name) for f in facilities]

    def clean(self):
        data = super().clean()
        data["facility_obj"] = self.facilities.get(data.get("facility"))
        day = data.get("date")
        if day is not None and not dt.date(2000, 1, 1) <= day <= dt.date(2099, 12, 31):
            self.add_error("date", _("Enter a date between 2000 and 2099."))
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The end of the stop must be after its start."))
        # The bookings the clerk confirmed (hidden fields of the confirm step); anything else is ignored.
        getlist = getattr(self.data, "getlist", None)
        values = getlist("booking") if getlist else []
        data["bookings"] = {int(v) for v in values if str(v).isdigit() and len(str(v)) < 12}
        return data

    def query(self, *, end: dt.time | None = None) -> str:
        """The confirm step's address query for the cleaned values; ``end`` replaces an empty end ("until now")
        by the minute the stop was recorded until, so the page after marking shows what was marked."""
        data = self.cleaned_data
        end = data.get("end") or (end if end is not None and end > data["start"] else None)
        values = {
            "facility": data["facility"],
            "date": data["date"].isoformat(),
            "kind": data["kind"],
            "start": f"{data['start']:%H:%M}",
            "end": f"{end:%H:%M}" if end else "",
            "note": data.get("note") or "",
        }
        return urlencode(values)
