"""The booking form of the confirm page (issue #21 items 2 and 5).

It carries what the page showed — the time range and its fee — so that the POST books exactly that or nothing,
the end time chosen in the same form (hourly units, T-USE-1), and the answers the municipality's profile asks
for: the purpose of use, the number of people, the terms accepted (``rules.details_refusals`` says which are
required). The form only parses; whether the answers do is the rules module's question.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from .rules import PURPOSE_MAX_LENGTH, BookingDetails

# Which form field a refusal of rules.details_refusals belongs beside.
FIELD_OF_CODE = {
    "purpose_required": "purpose",
    "purpose_too_long": "purpose",
    "headcount_required": "headcount",
    "headcount_invalid": "headcount",
    "terms_not_accepted": "terms",
}


class BookingForm(forms.Form):
    shown = forms.CharField(required=False, max_length=9)  # the range the page showed, HHMM-HHMM
    fee_shown = forms.IntegerField(required=False, min_value=0)  # its fee in yen (empty: no fee table)
    until = forms.CharField(required=False, max_length=4)  # the end time chosen (hourly units)
    purpose = forms.CharField(label=_("Purpose of use"), required=False, max_length=PURPOSE_MAX_LENGTH)
    headcount = forms.IntegerField(
        label=_("Number of people"),
        required=False,
        min_value=1,
        max_value=9999,
        error_messages={"invalid": _("Enter the number of people as a whole number, e.g. 12.")},
    )
    terms = forms.BooleanField(label=_("I have read the terms of use and accept them."), required=False)

    def details(self) -> BookingDetails:
        data = self.cleaned_data
        return BookingDetails(
            purpose=(data.get("purpose") or "").strip(),
            headcount=data.get("headcount"),
            terms_accepted=bool(data.get("terms")),
        )

    def prefill(self) -> dict:
        """The answers as query parameters, so that a page showing another range keeps them."""
        values = {name: self.data.get(name, "") for name in ("purpose", "headcount")}
        if self.data.get("terms"):
            values["terms"] = "on"
        return {name: value for name, value in values.items() if value}
