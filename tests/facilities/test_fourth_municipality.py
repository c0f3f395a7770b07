"""A fourth municipality, set up from the admin alone (X-1, issue #19 item 6), then booked by its own numbers.

The operator POSTs the admin's add forms — the municipality, its slot scheme, closure calendar, facility with
opening hours and a unit, rule profile with booking windows and a limit, fee schedule with a price, payment place,
and the clerk's and a resident's accounts — exactly as a browser would (every field of each form, inline rows
with their management forms). Nothing is created in code. Then the resident books at the edges of the new
numbers, and the refusals cite the new municipality's own rule ids:

- みのり町 (slug ``minori``), 公民館 open 09:00–18:00, closed on Wednesdays; 90-minute slots (M-USE-1);
- online first-come from ``M-1/10 09:00`` (M-FC-1) to ``D-4 23:59`` (M-FC-2), provisional until paid by ``D-3 23:59``;
- at most 2 slots per person per facility and month (M-FC-4); 800 yen a slot (M-FEE-1), paid at 町役場 (M-PAY-3),
  the use permit with the payment (M-PAY-1).
"""

import datetime as dt

import pytest
import time_machine
from django.forms import ModelMultipleChoiceField, MultipleChoiceField, MultiWidget

from accounts.models import User
from facilities.models import Facility, Municipality, RuleProfile, SlotScheme, Unit
from fees import services as fee_services
from fees.models import PaymentPlace
from tests.reservations.booking_helpers import attempt, jst, user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SETUP_DAY = jst(2027, 7, 1, 10, 0)
USE_DATE = dt.date(2027, 9, 16)  # a Thursday; M-1/10 09:00 = 2027-08-10 09:00; D-4 = 09-12; D-3 = 09-13


def _plain(value) -> str:
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return str(value)


def _field_data(bound) -> dict:
    """What a browser posts for one form field, as its form shows it now."""
    value, widget, name = bound.value(), bound.field.widget, bound.html_name
    if bound.field.disabled:
        return {}
    if isinstance(widget, MultiWidget):  # split date and time
        parts = value if isinstance(value, list) else widget.decompress(value)
        return {f"{name}_{index}": "" if part is None else _plain(part) for index, part in enumerate(parts)}
    if isinstance(value, bool):
        return {name: "on"} if value else {}
    if isinstance(value, (list, tuple)) or isinstance(bound.field, (MultipleChoiceField, ModelMultipleChoiceField)):
        return {name: [_plain(item) for item in value or []]}
    return {name: "" if value is None else _plain(value)}


def _post(client, url, values: dict, inlines: dict | None = None):
    """GET the admin page at ``url`` and POST its form back with ``values`` (field → value) and, for each inline
    prefix in ``inlines``, its rows (a list of field → value): the management forms say how many."""
    page = client.get(url)
    assert page.status_code == 200, url
    form = page.context["adminform"].form
    data = {}
    for name in form.fields:
        data.update(_field_data(form[name]))
    data.update({key: value if isinstance(value, list) else _plain(value) for key, value in values.items()})
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        rows = (inlines or {}).get(formset.prefix, [])
        management = formset.management_form
        for name in management.fields:
            data[management.add_prefix(name)] = str(management[name].value())
        data[f"{formset.prefix}-TOTAL_FORMS"], data[f"{formset.prefix}-INITIAL_FORMS"] = str(len(rows)), "0"
        empty = formset.empty_form
        for index, row in enumerate(rows):
            for name in empty.fields:
                bound = empty[name]
                posted = _field_data(bound)
                data.update({key.replace("__prefix__", str(index)): value for key, value in posted.items()})
            data.update({f"{formset.prefix}-{index}-{key}": _plain(value) for key, value in row.items()})
    response = client.post(url, data)
    errors = response.context and (response.context.get("errors") or response.context.get("adminform").form.errors)
    assert response.status_code == 302, f"{url}: {errors}"
    return response


def _add(client, app_model: str, values: dict, inlines: dict | None = None):
    return _post(client, f"/admin/{app_model}/add/", values, inlines)


def _add_user(client, *, username, municipality, **registration):
    """The admin's two steps: the user add form (name and password), then the change form (the registration)."""
    response = _add(
        client,
        "accounts/user",
        {
            "username": username,
            "password1": "minori-pass-2027",
            "password2": "minori-pass-2027",
            "usable_password": "true",
        },
    )
    created = User.objects.get(username=username)
    assert response.url.endswith(f"/{created.pk}/change/")
    _post(
        client,
        f"/admin/accounts/user/{created.pk}/change/",
        {"municipality": municipality.pk, "is_active": "on", **registration},
    )
    return User.objects.get(pk=created.pk)


def set_up_minori(client):
    """Everything through the admin's forms, as the operator."""
    client.force_login(user("operator"))
    _add(
        client,
        "facilities/municipality",
        {"slug": "minori", "name_ja": "みのり町", "name_en": "Minori Town", "department_ja": "生涯学習課"},
    )
    minori = Municipality.objects.get(slug="minori")
    _add(
        client,
        "facilities/slotscheme",
        {"municipality": minori.pk, "code": "ninety", "name_ja": "90分枠", "kind": "fixed_length", "slot_minutes": 90},
    )
    _add(
        client,
        "facilities/closurecalendar",
        {"municipality": minori.pk, "name": "公民館の休館日"},
        {"rules": [{"kind": "weekly", "weekday": 2, "note": "水曜日"}]},
    )
    calendar = minori.closure_calendars.get()
    scheme = SlotScheme.objects.get(municipality=minori)
    _add(
        client,
        "facilities/facility",
        {
            "municipality": minori.pk,
            "code": "kominkan",
            "kind": "community_center",
            "name_ja": "みのり町公民館",
            "name_en": "Minori Community Hall",
            "closure_calendar": calendar.pk,
            "has_parking": "on",
        },
        {
            "opening_hours": [{"first_month": 1, "last_month": 12, "opens": "09:00", "closes": "18:00"}],
            "units": [
                {
                    "code": "hall",
                    "name_ja": "ホール",
                    "name_en": "Hall",
                    "kind": "hall",
                    "slot_scheme": scheme.pk,
                    "is_active": "on",
                    "sort_order": 0,
                }
            ],
        },
    )
    _add(
        client,
        "facilities/ruleprofile",
        {
            "municipality": minori.pk,
            "confirm_rule_id": "M-PAY-1",
            "online_cancellable_states": "provisional",
            "online_cancel_rule_id": "M-CAN-1",
            "unpaid_rule_id": "M-PAY-2",
            "registration_rule_id": "M-REG-1",
            "slot_rule_id": "M-USE-1",
            "permit_title": "使用許可書",
            "permit_after_payment": "on",
            "registration_kind": "individual",
            "account_rule_id": "M-REG-1",
        },
        {
            "windows": [
                {
                    "phase": "first_come",
                    "channel": "online",
                    "initial_state": "provisional",
                    "opens": "M-1/10 09:00",
                    "opens_rule_id": "M-FC-1",
                    "closes": "D-4 23:59",
                    "closes_rule_id": "M-FC-2",
                    "pay_by": "D-3 23:59",
                    "pay_by_rule_id": "M-PAY-2",
                },
                {
                    "phase": "first_come",
                    "channel": "counter",
                    "initial_state": "awaiting_payment",
                    "opens": "D-3 00:00",
                    "opens_rule_id": "M-FC-3",
                    "closes": "start",
                    "closes_rule_id": "M-FC-3",
                    "pay_by": "B 23:59",
                    "pay_by_rule_id": "M-FC-3",
                    "paid_at_booking": "on",
                },
            ],
            "limits": [
                {
                    "rule_id": "M-FC-4",
                    "phase": "first_come",
                    "scope": "facility",
                    "count": 2,
                    "counted_origins": "first_come",
                }
            ],
        },
    )
    _add(
        client,
        "fees/feeschedule",
        {
            "municipality": minori.pk,
            "name_ja": "みのり町公民館使用料",
            "valid_from": "2027-04-01",
            "non_resident_percent": 100,
        },
        {
            "rates": [
                {
                    "charge": "base",
                    "unit_kind": "hall",
                    "price": 800,
                    "per": "slot",
                    "rule_id": "M-FEE-1",
                    "non_resident_multiplied": "on",
                }
            ]
        },
    )
    _add(
        client,
        "fees/paymentplace",
        {
            "municipality": minori.pk,
            "name_ja": "みのり町役場",
            "name_en": "Minori Town Hall",
            "opens_at": "08:30",
            "closes_at": "17:15",
            "rule_id": "M-PAY-3",
        },
    )
    _add_user(
        client,
        username="minori-clerk",
        municipality=minori,
        account_kind="staff",
        staff_role="clerk",
        display_name="みのり町 窓口",
        is_staff="on",
        language="ja",
    )
    _add_user(
        client,
        username="minori-resident",
        municipality=minori,
        account_kind="individual",
        display_name="みのり 花子",
        residency="resident",
        fee_category="general",
        valid_from="2027-04-01",
        valid_until="2030-03-31",
        language="ja",
    )
    return minori


def test_fourth_municipality__set_up_from_the_admin_alone_and_booked_by_its_numbers(client):
    with time_machine.travel(SETUP_DAY, tick=False):
        minori = set_up_minori(client)
    hall = Unit.objects.select_related("facility", "slot_scheme").get(municipality=minori)
    resident, clerk = user("minori-resident"), user("minori-clerk")
    assert (
        RuleProfile.objects.get(municipality=minori).windows.get(channel="counter").paid_at_booking
    )  # the inline field
    slot = {"user": resident, "unit": hall, "day": USE_DATE}

    # The window's opening edge (M-1/10 09:00) and the slot rule (90 minutes from 09:00).
    assert attempt(jst(2027, 8, 10, 8, 59), **slot, start="09:00", end="10:30") == ["M-FC-1"]
    assert attempt(jst(2027, 8, 10, 9, 0), **slot, start="09:00", end="10:00") == ["M-USE-1"]
    first = attempt(jst(2027, 8, 10, 9, 0), **slot, start="09:00", end="10:30")
    assert (first.state, first.fee_total, first.pay_by) == ("provisional", 800, jst(2027, 9, 14))  # D-3 23:59
    # The limit's edge (2 slots per facility and month): the second is taken, the third refused.
    assert attempt(jst(2027, 8, 10, 9, 1), **slot, start="10:30", end="12:00").slot_count == 1
    assert attempt(jst(2027, 8, 10, 9, 2), **slot, start="12:00", end="13:30") == ["M-FC-4"]
    # The closing edge (D-4 23:59), another facility month: the limit counts September only.
    other_day = {"user": resident, "unit": hall, "day": dt.date(2027, 10, 14)}
    assert attempt(jst(2027, 10, 10, 23, 59), **other_day, start="16:30", end="18:00").slot_count == 1
    assert attempt(jst(2027, 10, 11, 0, 0), **other_day, start="15:00", end="16:30") == ["M-FC-2"]
    # From D-3 the counter books only together with the payment (the inline's "paid with the booking", M-FC-3).
    counter = {**other_day, "start": "09:00", "end": "10:30", "channel": "counter", "booked_by": clerk}
    assert attempt(jst(2027, 10, 11, 10, 0), **counter) == ["M-FC-3"]
    assert attempt(jst(2027, 10, 11, 10, 0), **counter, paid=True).state == "confirmed"
    # A closed Wednesday: the calendar set up in the admin.
    assert attempt(
        jst(2027, 8, 10, 9, 3), user=resident, unit=hall, day=dt.date(2027, 9, 15), start="09:00", end="10:30"
    ) == ["X-2"]
    # Paid at the payment place set up in the admin: confirmed, with its permit (M-PAY-1).
    place = PaymentPlace.objects.get(municipality=minori)
    with time_machine.travel(jst(2027, 9, 13, 10, 0), tick=False):
        payment = fee_services.record_payment(
            reservation_id=first.pk, amount=800, place=place, receipt_number="M-1", staff=clerk
        )
    first.refresh_from_db()
    assert (
        first.state == "confirmed" and payment.permit_number == "M-2027-000002"
    )  # the counter booking above has 000001
    # The municipality's pages work with nothing else done: its home, the facility, the unit's week with its slots.
    client.logout()
    with time_machine.travel(jst(2027, 9, 1, 10, 0), tick=False):
        assert "みのり町公民館" in client.get("/minori/").content.decode()
        assert client.get(f"/minori/facilities/{Facility.objects.get(municipality=minori).code}/").status_code == 200
        week = client.get(f"/minori/units/{hall.pk}/week/2027-09-16/").content.decode()
    assert "10:30" in week and "16:30" in week  # 90-minute slots from 09:00 to 18:00
