"""Helpers of the counter console tests: the demo data once per module (booking_helpers.seeded), logged-in
clients for clerks and residents, and the console's addresses."""

import datetime as dt

import time_machine
from django.test import Client
from django.urls import reverse

from tests.reservations.booking_helpers import user


def client_for(username: str | None, **kwargs) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en", **kwargs)
    if username:
        client.force_login(user(username))
    client.cookies["django_language"] = "en"
    return client


def counter_url(name: str, municipality: str = "kodaira", *args, **query) -> str:
    url = reverse(f"counter:{name}", args=[municipality, *args])
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    return url


def at(moment: dt.datetime):
    """The clock stopped at ``moment`` (Japan time) for the requests inside."""
    return time_machine.travel(moment, tick=False)


def book_post(
    client, municipality: str, person, the_unit, day: dt.date, span: str, channel: str = "counter", **payment
):
    """POST the console's booking form; ``payment`` (amount, receipt_number, place) books and pays in one step."""
    return client.post(
        counter_url("book", municipality, person.pk),
        {"unit": the_unit.pk, "date": day.isoformat(), "channel": channel, "span": span, **payment},
    )
