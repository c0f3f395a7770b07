"""Helper of scripts/backup-restore-check.sh (issue #9): runs against DATABASE_URL.

book          book a slot the online window admits now for the demo group kodaira-group1 (services.book);
              prints the booking as JSON
counts        rows per table of the portal's apps and Django's (JSON, sorted)
read FILE     the booking of FILE is there as booked, the pages render from the database (municipality page,
              the unit's week grid showing the slot as taken), and one more booking succeeds
"""

import datetime as dt
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django

django.setup()

from django.apps import apps  # noqa: E402
from django.test import Client  # noqa: E402
from django.utils import timezone  # noqa: E402

from accounts.models import User  # noqa: E402
from config import clock  # noqa: E402
from facilities import calendars  # noqa: E402
from facilities.models import Unit  # noqa: E402
from facilities.slots import unit_slots  # noqa: E402
from reservations import rules, services  # noqa: E402
from reservations.models import Reservation  # noqa: E402


def book_one(user: User, skip: set[tuple[int, str]] = frozenset()) -> Reservation:
    profile_rules = rules.ProfileRules.of(user.municipality)
    now = clock.now()
    units = (
        Unit.objects.of(user.municipality).select_related("facility__closure_calendar", "slot_scheme").order_by("id")
    )
    for offset in range(9, 60):
        day = clock.today() + dt.timedelta(days=offset)
        for unit in units:
            if not calendars.is_open(unit.facility, day):
                continue
            for slot in unit_slots(unit, day):
                if (unit.id, slot.starts_at) in skip:
                    continue
                decision = rules.evaluate(
                    rules=profile_rules, user=user, unit=unit, slots=[slot], channel="online", now=now
                )
                if decision.allowed:
                    try:
                        return services.book(user=user, unit=unit, starts_at=slot.starts_at, ends_at=slot.ends_at)
                    except (services.SlotTaken, services.BookingRefused):
                        continue
    raise SystemExit("no bookable slot found for the probe")


def counts() -> dict[str, int]:
    labels = {
        "accounts",
        "facilities",
        "reservations",
        "lottery",
        "fees",
        "django_q",
        "auth",
        "account",
        "mfa",
        "sessions",
    }
    return {
        model._meta.db_table: model._default_manager.count()
        for model in apps.get_models()
        if model._meta.app_label in labels and not model._meta.proxy and model._meta.managed
    }


def main() -> None:
    mode = sys.argv[1]
    if mode == "book":
        reservation = book_one(User.objects.get(username="kodaira-group1"))
        print(
            json.dumps(
                {
                    "id": reservation.id,
                    "unit_id": reservation.unit_id,
                    "user_id": reservation.user_id,
                    "starts_at": reservation.starts_at.isoformat(),
                    "state": reservation.state,
                }
            )
        )
    elif mode == "counts":
        print(json.dumps(counts(), sort_keys=True))
    elif mode == "read":
        booked = json.loads(Path(sys.argv[2]).read_text())
        reservation = Reservation.objects.select_related("unit", "user").get(pk=booked["id"])
        assert (reservation.unit_id, reservation.user_id, reservation.starts_at, reservation.state) == (
            booked["unit_id"],
            booked["user_id"],
            dt.datetime.fromisoformat(booked["starts_at"]),
            booked["state"],
        ), f"the booking changed: {reservation.__dict__} != {booked}"
        assert reservation.holds.count() == 1, "the booking's slot hold was not restored"
        client = Client()
        municipality = reservation.unit.municipality.slug
        page = client.get(f"/{municipality}/")
        assert page.status_code == 200, page.status_code
        day = timezone.localtime(reservation.starts_at).date()  # TIME_ZONE is Asia/Tokyo
        client.force_login(reservation.user)
        week = client.get(f"/{municipality}/units/{reservation.unit_id}/week/{day.isoformat()}/")
        assert week.status_code == 200, week.status_code
        assert "◎" in week.content.decode(), "the week grid does not show the restored booking as the user's"
        again = book_one(reservation.user, skip={(reservation.unit_id, reservation.starts_at)})
        assert again.pk > reservation.pk, "a new booking did not get a new id (sequences not restored?)"
        print(
            f"[backup-restore] booking #{reservation.id} read back, pages rendered, new booking #{again.id} made",
            file=sys.stderr,
        )
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main()
