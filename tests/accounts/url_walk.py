"""Every URL pattern of the project (django.urls.get_resolver), filled in with one municipality's objects, for
the cross-tenant and CSRF tests. A pattern with a parameter this module does not know fails loudly: add it."""

import dataclasses
import datetime as dt
import re

from django.urls import URLPattern, URLResolver, get_resolver

from accounts.models import ApiToken, FamilyProxy, Notice, Registration, User
from config import clock
from facilities.models import Unit
from lottery.models import Application
from reservations.models import SlotWatch
from tests.reservations.booking_helpers import make_lottery_win

# Object parameters: a pattern with one of these addresses a tenant's object.
OBJECT_PARAMS = {
    "pk",
    "proxy",
    "user_id",
    "booking_id",
    "reservation_id",
    "unit_id",
    "application_id",
    "facility_code",
    "watch_id",
}
# ``pk`` names a different kind of object per route: each route with a ``pk`` must match one of these, so a new
# one is not filled in with some other object's id (which would answer 404 for the wrong reason).
PK_OBJECTS = [
    (r"(requests|duplicates)/<int:pk>", "registration_pk"),
    (r"users/<int:pk>", "user_pk"),
    (r"tokens/<int:pk>", "token_pk"),
    (r"notifications/<int:pk>", "notice_pk"),
]
# Parameters that are not objects: any valid-looking value.
PLAIN_VALUES = {"day": "2027-06-16", "span": "0900-1200", "month": "2027-06", "action": "withdraw", "table": "units"}
SKIPPED_PARAMS = {"rest", "uidb36", "key", "path", "document_root", "url", "object_id", "app_label", "content_type_id"}
# Values for the addresses that only ``routes(every=True)`` includes: the admin's, allauth's keyed links, the
# calendar feeds, the API's catch-all (a walk that must reach every address: tests/accounts/test_mfa_walk.py).
OTHER_VALUES = {
    "rest": "anything",
    "uidb36": "1",
    "key": "1-abc",
    "url": "anything",
    "object_id": "1",
    "app_label": "accounts",
    "content_type_id": "1",
    "id": "1",
    "calendar_id": "1",
    "path": "facilities/photos/none.png",  # uploaded photos, served by Django outside production
}


@dataclasses.dataclass
class Route:
    route: str
    params: list[str]
    is_api: bool

    @property
    def is_counter(self) -> bool:
        return "/counter/" in "/" + self.route

    @property
    def has_objects(self) -> bool:
        return bool(OBJECT_PARAMS & set(self.params))

    def url(self, values: dict) -> str:
        path = self.route.replace("^", "").replace("$", "")
        for name in self.params:
            path = re.sub(rf"<(?:\w+:)?{name}>|\(\?P<{name}>[^)]*\)", str(values[name]), path)
        return "/" + path


def _param_names(route: str) -> list[str]:
    return re.findall(r"<(?:\w+:)?(\w+)>", route) + re.findall(r"\(\?P<(\w+)>", route)


def routes(*, every: bool = False) -> list[Route]:
    """The project's URL patterns; without ``every``, not the admin's nor those with a parameter of SKIPPED_PARAMS."""
    found = []

    def walk(patterns, prefix, api):
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, text, api or text.startswith("api/"))
            elif isinstance(pattern, URLPattern):
                found.append(Route(text, _param_names(text), api or text.startswith("api/")))

    walk(get_resolver().url_patterns, "", False)
    if every:
        return found
    return [r for r in found if not r.route.startswith("admin/") and not SKIPPED_PARAMS & set(r.params)]


def tenant_objects(slug: str, staff: User) -> dict:
    """One object of each kind in municipality ``slug``, as URL parameter values: real rows of one resident of
    ``slug`` (their booking, application, alert, API token, notice …), so another user's request for them must
    answer 404 because they are not theirs, not because they do not exist."""
    group = (
        User.objects.filter(municipality__slug=slug, is_active=True)
        .exclude(account_kind="staff")
        .order_by("id")
        .first()
    )
    unit = Unit.objects.filter(municipality__slug=slug).select_related("facility").order_by("id").first()
    booking = make_lottery_win(user=group, unit=unit, day=dt.date(2027, 6, 16), start="09:00", end="12:00")
    registration = Registration.objects.create(
        user=group,
        municipality=group.municipality,
        created_at=clock.now(),
        person_name=group.display_name,
    )
    registration.possible_duplicates.add(User.objects.filter(municipality__slug=slug).exclude(pk=group.pk).first())
    proxy = FamilyProxy.objects.create(user=group, name="家族", relation="子", added_at=clock.now(), added_by=staff)
    application = Application.objects.create(
        municipality=group.municipality,
        month=dt.date(2027, 6, 1),
        user=group,
        unit=unit,
        starts_at=booking.starts_at,
        ends_at=booking.ends_at,
        channel="online",
        created_at=clock.now(),
    )
    watch = SlotWatch.objects.create(  # a cancellation alert (issue #8 item 2)
        municipality=group.municipality,
        user=group,
        kind="pattern",
        facility=unit.facility,
        from_minute=540,
        to_minute=720,
        date_from=dt.date(2027, 6, 1),
        date_to=dt.date(2027, 6, 30),
        created_at=clock.now(),
    )
    token, _text = ApiToken.objects.issue(user=group, name="url walk")
    notice = Notice.objects.create(
        user=group,
        municipality=group.municipality,
        kind=Notice.Kind.BOOKED,
        key=f"url-walk:{group.pk}",
        language="ja",
        subject="予約を受け付けました",
        body="url walk",
        created_at=clock.now(),
    )
    return {
        "watch_id": watch.pk,
        "user_id": group.pk,
        "booking_id": booking.pk,
        "reservation_id": booking.pk,
        "unit_id": unit.pk,
        "application_id": application.pk,
        "facility_code": unit.facility.code,
        "proxy": proxy.pk,
        "user_pk": group.pk,
        "registration_pk": registration.pk,
        "token_pk": token.pk,
        "notice_pk": notice.pk,
        "owner": group,
    }


def values_for(route: Route, municipality: str, objects: dict) -> dict:
    values = {}
    for name in route.params:
        if name in ("municipality", "muni"):
            values[name] = municipality
        elif name == "pk":
            values[name] = objects[_pk_object(route)]
        elif name in objects:
            values[name] = objects[name]
        elif name in PLAIN_VALUES:
            values[name] = PLAIN_VALUES[name]
        elif name in OTHER_VALUES:
            values[name] = OTHER_VALUES[name]
        else:
            raise AssertionError(
                f"url_walk does not know the parameter <{name}> of {route.route!r}: add a value for it"
            )
    return values


def _pk_object(route: Route) -> str:
    for pattern, key in PK_OBJECTS:
        if re.search(pattern, route.route):
            return key
    raise AssertionError(f"url_walk does not know what <pk> of {route.route!r} is: add it to PK_OBJECTS")
