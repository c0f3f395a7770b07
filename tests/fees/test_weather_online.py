"""S-WX-1 振替 online (issue #5 item 5, resident side): after staff mark a paid booking as rained off or stopped
for heat, its user transfers it from "My bookings" to a free slot of the same kind at the same facility, up to one
year after the use date, without paying again; or takes a full refund at the counter.

Booking: 南山公園 court 1 on 2027-06-15 09:00–11:00, 630 yen paid 2027-06-01, rained off (marked 09:30, 0 minutes
used). Shiroi's lottery months (S-LOT-1/5: results from M-2/18) are not offered: on 2027-06-20 the months up to
August 2027 are drawn.
"""

import contextlib
import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from accounts.models import AuditEntry, Notice
from fees.models import Payment, WeatherClaim
from reservations.models import Reservation
from tests.fees.test_cancellations import paid_shiroi_booking
from tests.fees.test_weather import mark
from tests.reservations.booking_helpers import book, jst, make_user, unit, user

NOW = jst(2027, 6, 20, 10, 0)  # a Sunday, five days after the rain
COURT_1 = ("shiroi", "minamiyama-tennis", "court-1")


def transfer_url(reservation, court=COURT_1, day="2027-07-20", span="0900-1100"):
    return reverse("fees:transfer_confirm", args=["shiroi", reservation.pk, unit(*court).pk, day, span])


def list_url(reservation, **query):
    address = reverse("fees:transfer", args=["shiroi", reservation.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


def my_bookings():
    return reverse("reservations:my_bookings", args=["shiroi"])


@pytest.fixture
def rained_off(client):
    reservation = paid_shiroi_booking()
    claim = mark(reservation)
    assert isinstance(claim, WeatherClaim), claim
    client.user = reservation.user  # who `at` logs in
    return reservation


@contextlib.contextmanager
def at(moment, client, who=None):
    """The clock at ``moment`` and ``who`` (default: the rained-off booking's user) logged in then, so that the
    session is not expired by the jump."""
    with time_machine.travel(moment, tick=False):
        client.force_login(who or client.user)
        yield


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestMyBookingsAndTheList:
    def test_my_bookings_links_to_the_transfer_and_names_the_counter_refund(self, client, rained_off):
        with at(NOW, client):
            page = client.get(my_bookings()).content.decode()
        assert f'data-test="transfer" href="{list_url(rained_off)}"' in page
        assert "2028" in page and "2032" in page  # transfer until 2028-06-15, refund until 2032-06-15

    def test_no_link_without_a_stop(self, client):
        reservation = paid_shiroi_booking()
        with at(NOW, client, reservation.user):
            assert 'data-test="transfer"' not in client.get(my_bookings()).content.decode()

    def test_lists_free_slots_of_the_month_and_leaves_out_taken_past_and_lottery_months(self, client, rained_off):
        book(
            jst(2027, 6, 3, 8, 30),
            user=make_user("shiroi", "other"),
            unit=unit(*COURT_1),
            day=dt.date(2027, 6, 22),
            start="09:00",
            end="11:00",
        )
        with at(NOW, client):
            june = client.get(list_url(rained_off))
            august = client.get(list_url(rained_off, month="2027-08"))
            september = client.get(list_url(rained_off, month="2027-09"))
        assert june.status_code == 200
        days = {d.date: [s.span for s in d.slots] for d in june.context["choice"].days}
        assert min(days) == dt.date(2027, 6, 20) and "0900-1100" not in days[dt.date(2027, 6, 20)]  # started
        assert "0900-1100" not in days[dt.date(2027, 6, 22)] and "1100-1300" in days[dt.date(2027, 6, 22)]  # taken
        assert august.context["choice"].days  # drawn on 06-16/17, results from 06-18 (S-LOT-4/5)
        assert september.context["choice"].days == []  # September's lottery is not drawn yet (S-LOT-1)
        assert "refund-info" in june.content.decode()

    def test_other_units_of_the_same_kind_at_the_same_facility_only(self, client, rained_off):
        court_2 = unit("shiroi", "minamiyama-tennis", "court-2")
        elsewhere = unit("shiroi", "minamiyama-ground", "ground") if _exists("minamiyama-ground") else None
        with at(NOW, client):
            page = client.get(list_url(rained_off, unit=court_2.pk))
            assert page.status_code == 200 and page.context["choice"].unit == court_2
            assert {u.facility_id for u in page.context["choice"].units} == {court_2.facility_id}
            if elsewhere is not None:
                assert client.get(list_url(rained_off, unit=elsewhere.pk)).status_code == 404

    def test_a_malformed_month_is_a_400(self, client, rained_off):
        with at(NOW, client):
            assert client.get(list_url(rained_off, month="2027-13")).status_code == 400
            assert client.get(transfer_url(rained_off, span="9-11")).status_code == 400


def _exists(facility_code):
    from facilities.models import Unit

    return Unit.objects.filter(municipality__slug="shiroi", facility__code=facility_code, code="ground").exists()


@pytest.mark.django_db
@pytest.mark.usefixtures("seeded")
class TestTransfer:
    def test_confirm_then_post__new_booking_without_payment_audited_and_told(self, client, rained_off):
        with at(NOW, client):
            page = client.get(transfer_url(rained_off))
            assert page.status_code == 200 and 'data-test="transfer"' in page.content.decode()
            answer = client.post(transfer_url(rained_off))
        claim = WeatherClaim.objects.get(reservation=rained_off)
        new = claim.transferred_to
        assert answer.status_code == 302 and answer.url == f"{my_bookings()}#booking-{new.pk}"
        assert (new.user_id, new.unit, new.channel, new.override_rule_id) == (
            rained_off.user_id,
            unit(*COURT_1),
            "online",
            "S-WX-1",
        )
        assert new.starts_at == jst(2027, 7, 20, 9) and new.fee_total == 630 and new.state == "confirmed"
        payment = Payment.objects.get(reservation=new)
        assert (payment.amount, payment.carried_amount, payment.taken, payment.method) == (630, 630, 0, "carried")
        assert (
            payment.carried_from_id == rained_off.payment.pk
            and payment.permit_number != rained_off.payment.permit_number
        )
        entry = AuditEntry.objects.get(action="weather.transfer")
        assert entry.actor_id == rained_off.user_id and entry.after["transferred_to"] == new.pk
        assert Notice.objects.filter(
            user=rained_off.user, kind=Notice.Kind.TRANSFERRED, key=f"transfer:{claim.pk}"
        ).exists()
        with at(NOW, client):
            mine = client.get(answer.url).content.decode()
        assert f'id="booking-{new.pk}"' in mine and payment.permit_number in mine

    def test_the_same_form_twice__one_transfer(self, client, rained_off):
        with at(NOW, client):
            first = client.post(transfer_url(rained_off))
            count = Reservation.objects.count()
            again = client.post(transfer_url(rained_off))  # back button + resubmit, or a double click
            back = client.get(transfer_url(rained_off))  # the confirm page after the transfer
        assert first.status_code == again.status_code == back.status_code == 302
        assert again.url == first.url and Reservation.objects.count() == count
        assert Payment.objects.filter(carried_from=rained_off.payment).count() == 1

    def test_settled_claim__409_for_another_slot(self, client, rained_off):
        with at(NOW, client):
            client.post(transfer_url(rained_off))
            other = client.post(transfer_url(rained_off, day="2027-07-21"))
            listing = client.get(list_url(rained_off))
        assert other.status_code == 409 and "claim_settled" in {r.code for r in other.context["refusals"]}
        assert listing.status_code == 409 and listing.context["choice"].refusal.code == "claim_settled"

    def test_refunded_claim__no_transfer(self, client, rained_off):
        from fees import services

        claim = WeatherClaim.objects.get(reservation=rained_off)
        with at(NOW, client):
            services.refund_weather_claim(
                claim_id=claim.pk, municipality_id=claim.municipality_id, staff=user("shiroi-clerk")
            )
            answer = client.post(transfer_url(rained_off))
        assert answer.status_code == 409 and {r.code for r in answer.context["refusals"]} == {"claim_settled"}
        assert WeatherClaim.objects.get(pk=claim.pk).transferred_to is None

    def test_a_year_accepted_a_year_and_a_day_refused(self, client, rained_off):
        late = jst(2028, 4, 20, 10)  # June 2028 is drawn (results from 2028-04-18)
        with at(late, client):
            listing = client.get(list_url(rained_off, month="2028-06"))
            assert max(d.date for d in listing.context["choice"].days) == dt.date(2028, 6, 15)
            assert listing.context["choice"].next_month is None
            refused_page = client.get(transfer_url(rained_off, day="2028-06-16"))
            refused = client.post(transfer_url(rained_off, day="2028-06-16"))
            accepted = client.post(transfer_url(rained_off, day="2028-06-15"))
        assert refused_page.status_code == refused.status_code == 422
        assert {r.code for r in refused.context["refusals"]} == {"S-WX-1"}
        assert accepted.status_code == 302
        assert WeatherClaim.objects.get(reservation=rained_off).transferred_to.starts_at == jst(2028, 6, 15, 9)

    def test_transfer_period_over__page_says_so(self, client, rained_off):
        with at(jst(2028, 6, 16, 9), client):
            page = client.get(list_url(rained_off))
        assert page.status_code == 409 and page.context["choice"].refusal.code == "S-WX-1"
        assert "refund-info" in page.content.decode()  # the refund is still open until 2032

    def test_slot_just_taken__409_and_the_claim_stays_open(self, client, rained_off):
        with at(NOW, client):
            assert client.get(transfer_url(rained_off)).status_code == 200
        book(
            jst(2027, 6, 20, 10, 1),
            user=make_user("shiroi", "quicker"),
            unit=unit(*COURT_1),
            day=dt.date(2027, 7, 20),
            start="09:00",
            end="11:00",
        )
        with at(jst(2027, 6, 20, 10, 2), client):
            answer = client.post(transfer_url(rained_off))
        assert answer.status_code == 409 and answer.context["taken"]
        assert {r.code for r in answer.context["refusals"]} == {"slot_taken"}
        assert WeatherClaim.objects.get(reservation=rained_off).is_open

    def test_lottery_month__refused_with_its_rule(self, client, rained_off):
        with at(NOW, client):
            answer = client.post(transfer_url(rained_off, day="2027-09-14"))
        assert answer.status_code == 422 and {r.code for r in answer.context["refusals"]} == {"S-LOT-1"}
        assert WeatherClaim.objects.get(reservation=rained_off).is_open

    def test_not_a_slot_or_a_closed_day__refused(self, client, rained_off):
        with at(NOW, client):
            answer = client.post(transfer_url(rained_off, span="1000-1200"))
        assert answer.status_code == 422 and {r.code for r in answer.context["refusals"]} == {"S-HRS-1"}

    def test_used_for_an_hour__no_stop_recorded__no_transfer(self, client):
        reservation = paid_shiroi_booking()
        assert mark(reservation, used=60) == {"S-WX-1"}
        with at(NOW, client, reservation.user):
            listing = client.get(list_url(reservation))
            posted = client.post(transfer_url(reservation))
        assert listing.status_code == posted.status_code == 409
        assert [r.code for r in listing.context["refusals"]] == ["S-WX-1"]
        assert not Reservation.objects.filter(override_rule_id="S-WX-1").exists()

    def test_not_the_owner__404(self, client, rained_off):
        with at(NOW, client, make_user("shiroi", "neighbour")):
            assert client.get(list_url(rained_off)).status_code == 404
            assert client.post(transfer_url(rained_off)).status_code == 404
        with at(NOW, client, user("kodaira-group1")):
            assert client.get(reverse("fees:transfer", args=["kodaira", rained_off.pk])).status_code == 404
        assert WeatherClaim.objects.get(reservation=rained_off).is_open

    def test_logged_out__to_the_login_page(self, client, rained_off):
        with time_machine.travel(NOW, tick=False):
            answer = client.post(transfer_url(rained_off))
        assert answer.status_code == 302 and "/accounts/login/" in answer.url
        assert WeatherClaim.objects.get(reservation=rained_off).is_open
