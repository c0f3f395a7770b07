"""The counter's money forms (issue #5): a payment, a cancellation's cause, rain or heat, a facility closure.
Errors are in the clerk's language; amounts are whole yen."""

from django import forms
from django.utils.translation import gettext_lazy as _

from config import clock

from .models import Cause, Payment, PaymentPlace, WeatherClaim

YEN_MAX = 10_000_000  # no booking costs ten million yen: a typo, refused before it reaches the rules


class PaymentForm(forms.Form):
    amount = forms.IntegerField(label=_("Amount received (yen)"), min_value=1, max_value=YEN_MAX)
    receipt_number = forms.CharField(label=_("Receipt number"), max_length=40)
    place = forms.ModelChoiceField(label=_("Payment place"), queryset=PaymentPlace.objects.none(), empty_label=None)
    payer_relation = forms.ChoiceField(label=_("Paid by"), choices=Payment.Relation.choices, required=False)
    payer_name = forms.CharField(label=_("Payer's name (when not the registered user)"), max_length=120, required=False)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["place"]
        field.queryset = places
        # Open places first, each with its hours, and those closed today said so (S-PAY-4: own closed days).
        today = clock.today()
        listed = sorted(places.with_closed_days(), key=lambda place: not place.is_open(today))
        field.choices = [(place.pk, place.label_on(today)) for place in listed]

    def clean(self):
        data = super().clean()
        if data.get("payer_relation") and not (data.get("payer_name") or "").strip():
            self.add_error("payer_name", _("Enter the name of the family member or member who pays (S-REG-5)."))
        return data


STAFF_CAUSES = [
    (Cause.OWN, _("At the user's request")),
    (Cause.WEATHER, Cause.WEATHER.label),
    (Cause.FACILITY, Cause.FACILITY.label),
]


class CancelForm(forms.Form):
    cause = forms.ChoiceField(label=_("Cause"), choices=STAFF_CAUSES, initial=Cause.OWN)
    reason = forms.CharField(label=_("Note"), max_length=300, required=False)
    expected_refund = forms.IntegerField(min_value=0, max_value=YEN_MAX, widget=forms.HiddenInput)
    place = forms.ModelChoiceField(label=_("Paid back at"), queryset=PaymentPlace.objects.none(), required=False)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places


class WeatherForm(forms.Form):
    kind = forms.ChoiceField(label=_("What stopped the use"), choices=WeatherClaim.Kind.choices)
    used_minutes = forms.IntegerField(
        label=_("Minutes the facility was used"), min_value=0, max_value=24 * 60, initial=0
    )
    note = forms.CharField(label=_("Note"), max_length=300, required=False)


class ClosureForm(forms.Form):
    facility = forms.ChoiceField(label=_("Facility"))
    unit = forms.ChoiceField(label=_("Unit"), required=False)
    date_from = forms.DateField(label=_("First day"), widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label=_("Last day"), widget=forms.DateInput(attrs={"type": "date"}))
    reason = forms.CharField(label=_("Reason (told to every user concerned)"), max_length=300)

    def __init__(self, *args, facilities, **kwargs):
        super().__init__(*args, **kwargs)
        self.facilities = {f.code: f for f in facilities}
        self.fields["facility"].choices = [(f.code, f.name) for f in facilities]
        self.fields["unit"].choices = [("", _("Every unit"))] + [
            (str(u.pk), f"{f.name} {u.name}") for f in facilities for u in f.units.all()
        ]

    def clean(self):
        data = super().clean()
        first, last = data.get("date_from"), data.get("date_to")
        if first and last and last < first:
            self.add_error("date_to", _("The last day is before the first."))
        elif first and last and (last - first).days > 366:
            self.add_error("date_to", _("Close at most a year at a time."))
        facility = self.facilities.get(data.get("facility"))
        if facility is not None:
            units = list(facility.units.all())
            if data.get("unit"):
                units = [u for u in units if str(u.pk) == data["unit"]]
                if not units:
                    self.add_error("unit", _("This unit is not in the chosen facility."))
            data["units"] = units
        return data


class TransferForm(forms.Form):
    """S-WX-1 振替: the new slot, as the clerk reads it off the availability grid."""

    unit = forms.ChoiceField(label=_("Unit"))
    date = forms.DateField(label=_("Use date"), widget=forms.DateInput(attrs={"type": "date"}))
    start = forms.TimeField(label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    end = forms.TimeField(label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.units = {str(u.pk): u for u in units}
        self.fields["unit"].choices = [(key, f"{u.facility.name} {u.name}") for key, u in self.units.items()]

    def clean(self):
        data = super().clean()
        if data.get("start") and data.get("end") and data["end"] <= data["start"]:
            self.add_error("end", _("The end time must be after the start time."))
        data["unit_obj"] = self.units.get(data.get("unit"))
        return data


class ChangeForm(TransferForm):
    """A change at the counter: the new slot, and the difference when it costs more."""

    extra_amount = forms.IntegerField(label=_("Difference received (yen)"), min_value=0, max_value=YEN_MAX, initial=0)
    receipt_number = forms.CharField(
        label=_("Receipt number (when a difference is received)"), max_length=40, required=False
    )
    place = forms.ModelChoiceField(label=_("Payment place"), queryset=PaymentPlace.objects.none(), required=False)

    def __init__(self, *args, places, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["place"].queryset = places
