"""Issue #7, "done when": every clerk action leaves an audit entry.

The walk enumerates every URL of the counter console (``/<muni>/counter/…``, the one namespace ``counter:``)
from the URL resolver. Each one either

- answers a POST with 405 (it only reads), or
- is in ``READS`` (reads that do not declare their methods: a POST writes nothing), or
- has at least one entry in ``ACTIONS``: how to perform a valid POST as the municipality's clerk, and the audit
  entries it must write (action, actor = the clerk, subject = the resident whose data it is).

A new state-changing counter route without an entry here fails ``test_every_counter_post_route_is_walked``.
"""

import dataclasses
import datetime as dt
import re
from collections.abc import Callable

import pytest
import time_machine
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from accounts.models import AuditEntry, FamilyProxy, Registration, User
from config import clock
from fees import services as fee_services
from fees.models import PaymentPlace
from lottery import services as lottery_services
from reservations import services
from tests.accounts.helpers import shiroi_person, tamba_card
from tests.fees.test_cancellations import paid_shiroi_booking
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

from .helpers import client_for

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

COUNTER_NAMESPACES = ("counter",)


# The routes --------------------------------------------------------------------------------------------------


def counter_routes() -> dict[str, list[str]]:
    """``{"namespace:name": [parameter names]}`` of every URL under ``<municipality>/counter/``."""
    found = {}

    def walk(patterns, prefix, namespace):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text, pattern.namespace or namespace)
            elif isinstance(pattern, URLPattern) and "<slug:municipality>/counter/" in text and pattern.name:
                found[f"{namespace}:{pattern.name}"] = re.findall(r"<(?:\w+:)?(\w+)>", text)

    walk(get_resolver().url_patterns, "", None)
    return found


ROUTES = counter_routes()
# Any value of the right shape: a route that only reads answers a POST with 405 before looking anything up.
DUMMY = {
    "booking_id": 999999,
    "user_id": 999999,
    "application_id": 999999,
    "pk": 999999,
    "proxy": 999999,
    "month": "2027-06",
    "day": "2027-06-15",
    "action": "lent",
    "table": "units",
}
# Reads that do not declare their methods (counter/account_views.py): a POST shows the page and writes nothing.
READS = {
    "counter:accounts_index",
    "counter:accounts_requests",
    "counter:accounts_account",
    "counter:accounts_duplicates",
}


# The actions -------------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Post:
    municipality: str
    url: str
    data: dict
    at: dt.datetime
    # (action, subject): the subject a User, None (no resident: a walk-in, a facility's day) or a callable run after.
    expected: list[tuple[str, object]]


def _place(name="白井市役所生涯学習課"):
    return PaymentPlace.objects.get(name_ja=name)


KODAIRA_DAY = dt.date(2027, 8, 20)  # tests/counter/test_booking.py: K-LM-1 from D-7, D-3 = 08-17
TAMBA_DAY = dt.date(2027, 7, 20)  # tests/counter/test_overrides.py: counter and phone closed after 07-17 (T-APP-1)
SHIROI_DAY = dt.date(2027, 6, 15)  # tests/counter/test_walk_in.py: 630 yen for two hours of court-1
LOTTERY_DAY = dt.date(2027, 8, 20)  # tests/counter/test_lottery.py: applications 06-10 .. 06-19 (K-LOT-1)


def _tamba_room():
    return unit("tamba", "kaibara", "large-meeting-room")


def _tamba_booking():
    return book(
        jst(2027, 6, 10, 10),
        user=user("tamba-resident1"),
        unit=_tamba_room(),
        day=TAMBA_DAY,
        start="10:00",
        end="11:00",
    )


def _unpaid_shiroi():
    return book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", "walker", password="x"),
        unit=unit("shiroi", "minamiyama-tennis", "court-1"),
        day=SHIROI_DAY,
        start="09:00",
        end="11:00",
    )


def _marked_shiroi():
    paid = paid_shiroi_booking()
    with time_machine.travel(jst(2027, 6, 15, 10), tick=False):
        fee_services.mark_weather(
            reservation_id=paid.pk,
            municipality_id=paid.municipality_id,
            kind="heat",
            used_minutes=30,
            staff=user("shiroi-clerk"),
        )
    return paid


def book_counter():
    group = user("kodaira-group1")
    return Post(
        "kodaira",
        reverse("counter:book", args=["kodaira", group.pk]),
        {
            "unit": unit("kodaira", "nakajima", "assembly-room").pk,
            "date": KODAIRA_DAY.isoformat(),
            "channel": "counter",
            "span": "0900-1200",
        },
        jst(2027, 8, 17, 10),
        [("booking.create", group)],
    )


def book_and_pay():  # S-FC-3 from D-6: booked and paid in one step
    player = make_user("shiroi", "shiroi-counter-player")
    return Post(
        "shiroi",
        reverse("counter:book", args=["shiroi", player.pk]),
        {
            "unit": unit("shiroi", "minamiyama-tennis", "court-1").pk,
            "date": SHIROI_DAY.isoformat(),
            "channel": "counter",
            "span": "0900-1100",
            "amount": "630",
            "receipt_number": "R-9",
            "place": _place().pk,
        },
        jst(2027, 6, 9, 10),
        [("booking.create", player), ("payment.record", player)],
    )


def book_slots():  # issue #22 item 3: two slots from the board, one payment (S-FC-3 from D-6)
    player = make_user("shiroi", "shiroi-board-player")
    court = unit("shiroi", "minamiyama-tennis", "court-1")
    return Post(
        "shiroi",
        reverse("counter:book_slots", args=["shiroi"]),
        {
            "date": SHIROI_DAY.isoformat(),
            "slot": [f"{court.pk}|0900-1100", f"{court.pk}|1100-1300"],
            "user": player.pk,
            "channel": "counter",
            "amount": "1260",
            "receipt_number": "R-10",
            "place": _place().pk,
        },
        jst(2027, 6, 9, 10),
        [
            ("booking.create", player),
            ("booking.create", player),
            ("payment.record", player),
            ("payment.record", player),
        ],
    )


def walk_in():
    return Post(
        "shiroi",
        reverse("counter:walk_in", args=["shiroi"]),
        {
            "unit": unit("shiroi", "minamiyama-tennis", "court-1").pk,
            "date": SHIROI_DAY.isoformat(),
            "span": "0900-1100",
            "residency": "resident",
            "walk_in_name": "飛込 花子",
            "walk_in_phone": "047-492-1111",
            "amount": "630",
            "receipt_number": "R-100",
            "place": _place().pk,
        },
        jst(2027, 6, 10, 10),
        [("booking.create", None), ("payment.record", None)],
    )


def lottery_apply():
    group = user("kodaira-group2")
    return Post(
        "kodaira",
        reverse("counter:lottery", args=["kodaira", group.pk]),
        {"unit": unit("kodaira", "nakajima", "assembly-room").pk, "date": LOTTERY_DAY.isoformat(), "span": "0900-1200"},
        jst(2027, 6, 12, 10),
        [("lottery.apply", group)],
    )


def lottery_withdraw():
    group, room = user("kodaira-group2"), unit("kodaira", "nakajima", "assembly-room")
    with time_machine.travel(jst(2027, 6, 12, 10), tick=False):
        application = lottery_services.apply(
            user=group,
            unit=room,
            starts_at=clock.at(LOTTERY_DAY, dt.time(9)),
            ends_at=clock.at(LOTTERY_DAY, dt.time(12)),
            channel="counter",
            entered_by=user("kodaira-clerk"),
        )
    return Post(
        "kodaira",
        reverse("counter:lottery_withdraw", args=["kodaira", application.pk]),
        {},
        jst(2027, 6, 12, 11),
        [("lottery.withdraw", group)],
    )


def key_lent():
    booking = _tamba_booking()
    return Post(
        "tamba",
        reverse("counter:key", args=["tamba", booking.pk, "lent"]),
        {},
        jst(2027, 7, 20, 9, 50),
        [("key.lend", booking.user)],
    )


def key_returned():
    booking = _tamba_booking()
    with time_machine.travel(jst(2027, 7, 20, 9, 50), tick=False):
        services.lend_key(reservation_id=booking.pk, municipality_id=booking.municipality_id, staff=user("tamba-clerk"))
    return Post(
        "tamba",
        reverse("counter:key", args=["tamba", booking.pk, "returned"]),
        {},
        jst(2027, 7, 20, 11, 5),
        [("key.return", booking.user)],
    )


def use_report():
    booking = _tamba_booking()
    return Post(
        "tamba",
        reverse("counter:use_report", args=["tamba", booking.pk]),
        {"attendance": "12", "actual_start": "10:00", "actual_end": "11:00", "note": ""},
        jst(2027, 7, 20, 11, 30),
        [("use_report.record", booking.user)],
    )


def override_grant():
    resident = user("tamba-resident1")
    return Post(
        "tamba",
        reverse("counter:override", args=["tamba"]),
        {
            "kind": "grant",
            "user": resident.pk,
            "unit": _tamba_room().pk,
            "date": TAMBA_DAY.isoformat(),
            "start": "1000",
            "end": "1200",
            "rule_id": "T-APP-5",
            "reason": "NPO法人の公開講座",
        },
        jst(2027, 7, 19, 10),
        [("booking.override.grant", resident)],
    )


def override_early_start():
    # T-USE-1: a grant that starts at 07:00 at a sports unit; audited like any grant.
    resident = user("tamba-resident1")
    return Post(
        "tamba",
        reverse("counter:override", args=["tamba"]),
        {
            "kind": "early_start",
            "user": resident.pk,
            "unit": unit("tamba", "sample-school-gym", "gym").pk,
            "date": TAMBA_DAY.isoformat(),
            "start": "0700",
            "end": "0900",
            "reason": "大会準備",
        },
        jst(2027, 7, 10, 10),
        [("booking.override.grant", resident)],
    )


def override_block():
    # A block is held by the clerk's own account (docs/counter.md, overrides), so the entry's subject is that account.
    return Post(
        "tamba",
        reverse("counter:override", args=["tamba"]),
        {
            "kind": "maintenance",
            "unit": _tamba_room().pk,
            "date": TAMBA_DAY.isoformat(),
            "start": "0900",
            "end": "1200",
            "reason": "空調工事",
        },
        jst(2027, 7, 19, 10),
        [("booking.override.maintenance", user("tamba-clerk"))],
    )


def release_block():
    with time_machine.travel(jst(2027, 6, 10, 10), tick=False):
        block = services.block_slot(
            unit=_tamba_room(),
            starts_at=clock.at(TAMBA_DAY, dt.time(9)),
            ends_at=clock.at(TAMBA_DAY, dt.time(12)),
            reason="空調工事",
            kind="maintenance",
            staff=user("tamba-clerk"),
        )
    return Post(
        "tamba",
        reverse("counter:release_block", args=["tamba", block.pk]),
        {"reason": "延期"},
        jst(2027, 6, 11, 10),
        [("booking.override.release", user("tamba-clerk"))],
    )


def money_pay():
    booking = _unpaid_shiroi()
    return Post(
        "shiroi",
        reverse("counter:money_pay", args=["shiroi", booking.pk]),
        {"amount": "630", "receipt_number": "R-77", "place": _place().pk},
        jst(2027, 6, 1, 10),
        [("payment.record", booking.user)],
    )


def money_cancel():
    paid = paid_shiroi_booking()
    return Post(
        "shiroi",
        reverse("counter:money_cancel", args=["shiroi", paid.pk]),
        {"cause": "own", "expected_refund": "315", "reason": ""},
        jst(2027, 6, 1, 10),
        [("booking.cancel", paid.user)],
    )


def money_change():
    paid = paid_shiroi_booking()
    return Post(
        "shiroi",
        reverse("counter:money_change", args=["shiroi", paid.pk]),
        {
            "unit": unit("shiroi", "minamiyama-tennis", "court-2").pk,
            "date": SHIROI_DAY.isoformat(),
            "start": "09:00",
            "end": "11:00",
            "extra_amount": "0",
        },
        jst(2027, 6, 1, 10),
        [("booking.change", paid.user), ("booking.create", paid.user)],
    )  # the new booking


def money_weather():
    paid = paid_shiroi_booking()
    return Post(
        "shiroi",
        reverse("counter:money_weather", args=["shiroi", paid.pk]),
        {"kind": "heat", "used_minutes": "30"},
        jst(2027, 6, 15, 10),
        [("weather.mark", paid.user)],
    )


def money_weather_refund():
    marked = _marked_shiroi()
    return Post(
        "shiroi",
        reverse("counter:money_weather_refund", args=["shiroi", marked.pk]),
        {"place": _place().pk},
        jst(2027, 6, 16, 10),
        [("weather.refund", marked.user)],
    )


def money_weather_transfer():
    marked = _marked_shiroi()
    return Post(
        "shiroi",
        reverse("counter:money_weather_transfer", args=["shiroi", marked.pk]),
        {
            "unit": unit("shiroi", "minamiyama-tennis", "court-2").pk,
            "date": "2027-07-01",
            "start": "09:00",
            "end": "11:00",
        },
        jst(2027, 6, 16, 10),
        [("weather.transfer", marked.user), ("booking.override.grant", marked.user)],
    )  # the new booking, S-WX-1


def money_closure():  # the POST with confirm=yes; without it the POST only lists (test_closure__lists_then_cancels)
    booking = _unpaid_shiroi()
    return Post(
        "shiroi",
        reverse("counter:money_closure", args=["shiroi"]),
        {
            "facility": "minamiyama-tennis",
            "unit": "",
            "date_from": "2027-06-15",
            "date_to": "2027-06-15",
            "reason": "大会準備",
            "confirm": "yes",
        },
        jst(2027, 6, 1, 10),
        [("booking.cancel_for_facility", booking.user)],
    )


def money_weather_day():
    paid = paid_shiroi_booking()
    return Post(
        "shiroi",
        reverse("counter:money_weather_day", args=["shiroi"]),
        {
            "facility": "minamiyama-tennis",
            "date": SHIROI_DAY.isoformat(),
            "kind": "rain",
            "start": "09:30",
            "end": "",
            "note": "",
            "booking": [paid.pk],
        },
        jst(2027, 6, 15, 10, 1),
        [("weather.mark", paid.user), ("weather.mark_day", None)],
    )


def _new_user(display_name):
    return lambda: User.objects.get(display_name=display_name)


def accounts_register():
    return Post(
        "tamba",
        reverse("counter:accounts_register", args=["tamba"]),
        tamba_card(),
        jst(2027, 5, 1, 9),
        [("registration.create", _new_user("春日 一郎"))],
    )


def _pending_shiroi():
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        assert client_for(None).post("/accounts/request/shiroi/", shiroi_person()).status_code == 302
    return Registration.objects.get(person_name="白井 次郎")


def accounts_approve():
    pending = _pending_shiroi()
    return Post(
        "shiroi",
        reverse("counter:accounts_request", args=["shiroi", pending.pk]),
        {"approve": "1", "identity_document": "drivers_license", "residency": "resident"},
        jst(2027, 6, 1, 11),
        [("registration.approve", pending.user)],
    )


def accounts_reject():
    pending = _pending_shiroi()
    return Post(
        "shiroi",
        reverse("counter:accounts_request", args=["shiroi", pending.pk]),
        {"reject": "1", "reason": "no identity document"},
        jst(2027, 6, 1, 11),
        [("registration.reject", pending.user)],
    )


def accounts_renew():
    resident = user("tamba-resident1")  # T-REG-1: renewable from 2028-12-31
    return Post(
        "tamba",
        reverse("counter:accounts_renew", args=["tamba", resident.pk]),
        {},
        jst(2029, 1, 5, 10),
        [("registration.renew", resident)],
    )


def accounts_password():
    resident = user("tamba-resident1")
    return Post(
        "tamba",
        reverse("counter:accounts_password", args=["tamba", resident.pk]),
        {"password": "new-hall-pass-9", "password2": "new-hall-pass-9"},
        jst(2027, 6, 1, 10),
        [("password.reset", resident)],
    )


def accounts_reissue():
    with time_machine.travel(jst(2027, 5, 1, 9), tick=False):
        assert (
            client_for("tamba-clerk")
            .post(reverse("counter:accounts_register", args=["tamba"]), tamba_card())
            .status_code
            == 302
        )
    old = User.objects.get(display_name="春日 一郎")

    def new():
        return User.objects.get(display_name="春日 一郎", is_active=True)

    return Post(
        "tamba",
        reverse("counter:accounts_reissue", args=["tamba", old.pk]),
        {
            "card_number": "T-0002",
            "identity_document": "my_number",
            "reason": "lost",
            "password": "new-card-pass-9",
            "password2": "new-card-pass-9",
        },
        jst(2027, 6, 1, 10),
        [("registration.withdraw", old), ("registration.reissue", new), ("registration.carry_over", new)],
    )


def accounts_change():
    resident = user("tamba-resident1")
    return Post(
        "tamba",
        reverse("counter:accounts_change", args=["tamba", resident.pk]),
        {
            "display_name": "丹波 次郎",
            "person_name": "",
            "address": "丹波市柏原町1",
            "phone": "0795-00-4444",
            "email": "jiro@example.com",
            "identity_document": "my_number",
        },
        jst(2027, 6, 1, 10),
        [("registration.change", resident)],
    )


def accounts_add_proxy():
    resident = user("tamba-resident1")
    return Post(
        "tamba",
        reverse("counter:accounts_add_proxy", args=["tamba", resident.pk]),
        {"name": "丹波 花子", "relation": "妻"},
        jst(2027, 6, 1, 10),
        [("proxy.add", resident)],
    )


def accounts_remove_proxy():
    resident = user("tamba-resident1")
    proxy = FamilyProxy.objects.create(
        user=resident, name="丹波 花子", relation="妻", added_at=jst(2027, 5, 1, 10), added_by=user("tamba-clerk")
    )
    return Post(
        "tamba",
        reverse("counter:accounts_remove_proxy", args=["tamba", resident.pk, proxy.pk]),
        {},
        jst(2027, 6, 1, 10),
        [("proxy.remove", resident)],
    )


def _duplicate(decision):
    person = make_user("tamba", "maybe-twin", display_name="丹波 一郎")
    registration = Registration.objects.create(
        user=person, municipality=person.municipality, created_at=jst(2027, 5, 1, 10), person_name=person.display_name
    )
    registration.possible_duplicates.add(user("tamba-resident1"))
    action = {"keep": "registration.duplicates_cleared", "withdraw": "registration.withdraw_duplicate"}[decision]
    return Post(
        "tamba",
        reverse("counter:accounts_review_duplicate", args=["tamba", registration.pk]),
        {"decision": decision, "note": "別人"},
        jst(2027, 6, 1, 10),
        [(action, person)],
    )


# ``name`` or ``name[variant]``: one entry per way a route changes state.
ACTIONS: dict[str, Callable[[], Post]] = {
    "counter:book": book_counter,
    "counter:book[paid at once]": book_and_pay,
    "counter:walk_in": walk_in,
    "counter:book_slots": book_slots,
    "counter:lottery": lottery_apply,
    "counter:lottery_withdraw": lottery_withdraw,
    "counter:key[lent]": key_lent,
    "counter:key[returned]": key_returned,
    "counter:use_report": use_report,
    "counter:override[grant]": override_grant,
    "counter:override[early_start]": override_early_start,
    "counter:override[block]": override_block,
    "counter:release_block": release_block,
    "counter:money_pay": money_pay,
    "counter:money_cancel": money_cancel,
    "counter:money_change": money_change,
    "counter:money_weather": money_weather,
    "counter:money_weather_refund": money_weather_refund,
    "counter:money_weather_transfer": money_weather_transfer,
    "counter:money_closure": money_closure,
    "counter:money_weather_day": money_weather_day,
    "counter:accounts_register": accounts_register,
    "counter:accounts_request[approve]": accounts_approve,
    "counter:accounts_request[reject]": accounts_reject,
    "counter:accounts_renew": accounts_renew,
    "counter:accounts_password": accounts_password,
    "counter:accounts_reissue": accounts_reissue,
    "counter:accounts_change": accounts_change,
    "counter:accounts_add_proxy": accounts_add_proxy,
    "counter:accounts_remove_proxy": accounts_remove_proxy,
    "counter:accounts_review_duplicate[keep]": lambda: _duplicate("keep"),
    "counter:accounts_review_duplicate[withdraw]": lambda: _duplicate("withdraw"),
}


def _route_of(entry: str) -> str:
    return entry.split("[")[0]


# The tests ---------------------------------------------------------------------------------------------------


def test_the_walk_sees_the_console_and_the_money_pages():
    """The enumeration itself: if the resolver walk broke, every other test here would pass vacuously."""
    for name in (
        "counter:book",
        "counter:key",
        "counter:money_pay",
        "counter:money_closure",
        "counter:accounts_register",
        "counter:exports_index",
    ):
        assert name in ROUTES
    assert len(ROUTES) >= 30


@pytest.mark.parametrize("name", sorted(ROUTES))
def test_every_counter_post_route_is_walked(name):
    """A route that takes a POST must have an entry in ACTIONS; the others answer a POST with 405 (or are READS)."""
    if any(_route_of(entry) == name for entry in ACTIONS):
        return
    address = reverse(
        name, kwargs={"municipality": "shiroi", **{p: DUMMY[p] for p in ROUTES[name] if p != "municipality"}}
    )
    before = AuditEntry.objects.count()
    with time_machine.travel(jst(2027, 6, 1, 10), tick=False):
        response = client_for("shiroi-clerk").post(address, {})
    assert AuditEntry.objects.count() == before
    if name in READS:
        assert response.status_code in (200, 404)
        return
    assert response.status_code == 405, (
        f"{name} ({address}) takes a POST ({response.status_code}) but has no entry in ACTIONS: add how to perform "
        f"it and the audit entry it must write"
    )


@pytest.mark.parametrize("entry", sorted(ACTIONS))
def test_every_clerk_action_writes_its_audit_entry(entry):
    assert _route_of(entry) in ROUTES, f"{entry}: no such counter route any more"
    post = ACTIONS[entry]()
    clerk = user(f"{post.municipality}-clerk")
    last = AuditEntry.objects.order_by("-id").values_list("id", flat=True).first() or 0
    with time_machine.travel(post.at, tick=False):
        response = client_for(f"{post.municipality}-clerk").post(post.url, post.data)
    assert response.status_code == 302, (entry, response.status_code, response.content.decode()[:2000])
    written = AuditEntry.objects.filter(id__gt=last).order_by("id")
    expected = sorted((action, subject() if callable(subject) else subject) for action, subject in post.expected)
    got = sorted((e.action, e.subject) for e in written)
    assert [a for a, _ in got] == [a for a, _ in expected], entry
    assert got == expected, entry
    assert all(e.actor == clerk for e in written), [(e.action, e.actor) for e in written]
