"""The payments of a month as CSV (issue #7 item 5; counter/exports.payments): every payment and refund
recorded in the month, a refund as its own row with a negative amount, the clerk's facility scope applied,
UTF-8 with a BOM for Excel, Japanese headers under a Japanese UI.

Shiroi, May 2027: a court of 南山 booked and paid (630 yen) on 5/10, cancelled with a refund on 5/20; a court of
中木戸 paid on 5/11; a payment of June is not May's."""

import datetime as dt

import pytest
import time_machine
from django.test import Client
from django.urls import reverse

from facilities.models import Facility
from fees import services as fees
from fees.models import PaymentPlace
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

from .helpers import client_for
from .test_exports import by_column, read_csv

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]


def _booked_and_paid(facility: str, username: str, day: dt.date, paid_at: dt.datetime, receipt: str):
    booking = book(
        jst(2027, 5, 3, 8, 30),
        user=make_user("shiroi", username, display_name=f"{username}さん"),
        unit=unit("shiroi", facility, "court-1"),
        day=day,
        start="09:00",
        end="11:00",
    )
    with time_machine.travel(paid_at, tick=False):
        fees.record_payment(
            reservation_id=booking.pk,
            amount=booking.fee_total,
            receipt_number=receipt,
            place=PaymentPlace.objects.get(name_ja="白井市役所生涯学習課"),
            staff=user("shiroi-clerk"),
        )
    return booking


@pytest.fixture
def may():
    refunded = _booked_and_paid("minamiyama-tennis", "pay-a", dt.date(2027, 6, 15), jst(2027, 5, 10, 10, 0), "R-100")
    kept = _booked_and_paid("nakakido-tennis", "pay-b", dt.date(2027, 6, 16), jst(2027, 5, 11, 15, 30), "R-101")
    june = _booked_and_paid("minamiyama-tennis", "pay-c", dt.date(2027, 6, 17), jst(2027, 6, 1, 9, 0), "R-102")
    with time_machine.travel(jst(2027, 5, 20, 10, 0), tick=False):
        quote = fees.cancellation_quote(refunded)
        _cancelled, refund = fees.cancel_at_counter(
            reservation_id=refunded.pk,
            municipality_id=refunded.municipality_id,
            staff=user("shiroi-admin"),
            reason="体調不良",
            expected_refund=quote.refund,
        )
    assert refund is not None and refund.amount > 0
    return {"refunded": refunded, "kept": kept, "june": june, "refund": refund}


def url(month="2027-05", municipality="shiroi"):
    return reverse("counter:exports_payments", args=[municipality, month])


def test_payments__every_payment_and_refund_recorded_in_the_month_in_order(may):
    with time_machine.travel(jst(2027, 6, 2, 9, 0), tick=False):
        response = client_for("shiroi-clerk").get(url())
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="payments-shiroi-2027-05.csv"'
    rows = by_column(read_csv(response))
    refunded, kept, refund = may["refunded"], may["kept"], may["refund"]
    assert [(r["Kind"], r["Booking no."]) for r in rows] == [
        ("Payment", str(refunded.pk)),
        ("Payment", str(kept.pk)),
        ("Refund", str(refunded.pk)),
    ]
    paid, _other, back = rows
    assert paid["Recorded at"].endswith("10:00") and paid["Permit number"] and paid["Receipt number"] == "R-100"
    assert (paid["Facility"], paid["Use date"], paid["User ID"], paid["Paid by"]) == (
        refunded.unit.facility.name,
        "2027-06-15",
        "pay-a",
        "pay-aさん",
    )
    assert (paid["Amount (yen)"], paid["Cash taken (yen)"], paid["Method"], paid["Payment place"], paid["Staff"]) == (
        str(refunded.fee_total),
        str(refunded.fee_total),
        "Cash",
        "Shiroi City Office, Lifelong Learning Division",
        str(user("shiroi-clerk")),
    )
    assert back["Permit number"] == paid["Permit number"] and back["Amount (yen)"] == str(-refund.amount)
    assert (back["Rule id"], back["Reason"], back["Staff"]) == (refund.rule_id, "体調不良", str(user("shiroi-admin")))
    assert str(may["june"].pk) not in {r["Booking no."] for r in rows}


def test_payments__japanese_headers_by_default_and_the_bom(may):
    with time_machine.travel(jst(2027, 6, 2, 9, 0), tick=False):
        client = Client()  # no language chosen: the portal's Japanese
        client.force_login(user("shiroi-clerk"))
        rows = read_csv(client.get(url()))  # read_csv checks the BOM and CRLF
    assert rows[0][:5] == ["種別", "記録日時", "許可番号", "予約番号", "施設"]
    assert rows[1][0] == "支払い" and rows[3][0] == "還付" and rows[3][9].startswith("-")


def test_payments__a_clerk_scoped_to_one_facility_gets_only_its_payments(may):
    clerk = make_user("shiroi", "scoped-clerk", account_kind="staff", staff_role="clerk")
    clerk.counter_facilities.set([Facility.objects.get(municipality__slug="shiroi", code="nakakido-tennis")])
    with time_machine.travel(jst(2027, 6, 2, 9, 0), tick=False):
        client = client_for(None)
        client.force_login(clerk)
        rows = by_column(read_csv(client.get(url())))
    assert [(r["Kind"], r["Booking no."]) for r in rows] == [("Payment", str(may["kept"].pk))]


def test_payments__other_municipality_resident_and_bad_month(may):
    assert client_for("kodaira-clerk").get(url()).status_code == 404
    assert client_for("shiroi-resident").get(url()).status_code == 404
    assert client_for("shiroi-clerk").get(url("2027-13")).status_code == 400
    picked = client_for("shiroi-clerk").get(
        reverse("counter:exports_payments_pick", args=["shiroi"]), {"month": "2027-05"}
    )
    assert picked.status_code == 302 and picked["Location"] == url()
    index = client_for("shiroi-clerk").get(reverse("counter:exports_index", args=["shiroi"])).content.decode()
    assert reverse("counter:exports_payments_pick", args=["shiroi"]) in index
