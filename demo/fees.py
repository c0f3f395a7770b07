"""Demo fee tables, refund rules and one fee exemption of the three municipalities; loaded by ``seed_demo``.

- **Shiroi**: the fee table of shiroi-sports-facilities.txt (⑧施設使用料金, 令和6年4月1日改訂版) exactly:
  白井運動公園 tennis and ground, other tennis and grounds, lighting 2,430 yen per hour (南山 ground, the only
  unit with night lights, S-HRS-2), non-residents ×2 without the lighting (S-FEE-1).
- **Tamba** and **Kodaira**: their documents give no amounts (T-PAY, K-USE-2): every price here is a SAMPLE VALUE,
  and the schedules are marked ``is_sample``. So is Kodaira's exempt demo group.
- Refund rules: Shiroi S-CAN-1/2 and S-WX-1, Tamba T-CAN-1/2 from their documents; Kodaira after K-FC-4 and
  K-USE-2 (the fee is paid on the day, so a cancellation before the slot returns whatever was paid).

- Payment places (S-PAY-4, T-PAY-1, K-USE-2): Shiroi's table of payment places as the document gives it (▼使用料の
  支払い窓口: 白井運動公園, the city office and seven centers, each with its closed days, and hours where stated);
  Tamba and Kodaira one counter each for all their facilities (SAMPLE: the documents name no single place).

``load(municipalities, upsert)`` is idempotent: rows are found by natural keys; a schedule's prices and a
municipality's refund rules become exactly the listed ones. A schedule's ``valid_until`` is left as an
administrator set it (a later schedule may have ended it).
"""

import datetime as dt

from django.contrib.auth import get_user_model

from demo import kodaira, tamba
from facilities.models import ClosureCalendar, ClosureRule, Facility, Unit
from fees.models import FeeExemption, FeeRate, FeeSchedule, PaymentPlace, RefundRule, WeatherPolicy

SCHEDULES_FROM = dt.date(2024, 4, 1)  # Shiroi's document: 令和6年4月1日(改訂版); the samples use the same day
NOT_USERS_FAULT = "not_users_fault"  # full refund when the user is not to blame; the source is silent (issue #5)


def _categories(rule_id, prices, **key):
    """One base price per fee category, per 2-hour slot: (general, high-school/university, elementary/junior-high)."""
    return [
        {**key, "fee_category": category, "price": price, "rule_id": rule_id}
        for category, price in zip(("general", "student", "child"), prices, strict=False)
    ]


SHIROI = {
    "schedule": {
        "name_ja": "白井市スポーツ施設使用料",
        "name_en": "Shiroi sports facility fees",
        "non_resident_percent": 200,
        "non_resident_rule_id": "S-FEE-1",
        "is_sample": False,
        "source": "shiroi-sports-facilities.txt ⑧施設使用料金（令和6年4月1日改訂版）",
    },
    "rates": [
        # 【運動公園】 テニス 1面2時間につき / グラウンド 2時間
        *_categories("S-FEE", (620, 310, 150), facility="undokoen-tennis"),
        *_categories("S-FEE", (1030, 510, 250), facility="undokoen-ground"),
        # 【運動公園以外】
        *_categories("S-FEE", (630, 310, 150), unit_kind="court"),
        *_categories("S-FEE", (1050, 520, 260), unit_kind="ground"),
        # 照明 1時間 2,430円, never doubled (S-FEE-1); after dark = from 17:00 (S-HRS-2 interpretation).
        {
            "charge": "lighting",
            "price": 2430,
            "per": "hour",
            "lit_from": dt.time(17),
            "non_resident_multiplied": False,
            "rule_id": "S-HRS-2",
        },
    ],
    "refunds": [
        {"cause": "own", "until": "D-7 23:59", "percent": 50, "rule_id": "S-CAN-2"},
        {"cause": "own", "until": "", "percent": 0, "cancellable": False, "rule_id": "S-CAN-1"},
        {"cause": "weather", "until": "", "percent": 100, "rule_id": "S-WX-1"},  # when no transfer is made
        {"cause": "facility", "until": "", "percent": 100, "rule_id": NOT_USERS_FAULT},
    ],
    # S-WX-1: transfer within 1 year of the use date, refund within 5 years, not after an hour of use.
    "weather": {"transfer_months": 12, "refund_years": 5, "used_minutes_limit": 60, "rule_id": "S-WX-1"},
}

# Tamba: SAMPLE hourly prices per room type (T-USE-1: whole hours).
TAMBA_ROOM_PRICES = {"large-meeting-room": 600, "small-meeting-room": 300, "japanese-room": 400, "cooking-room": 700}
TAMBA = {
    "schedule": {
        "name_ja": "丹波市住民センター等使用料（サンプル）",
        "name_en": "Tamba resident center fees (sample)",
        "non_resident_percent": 100,
        "non_resident_rule_id": "",
        "is_sample": True,
        "source": "サンプル値（tamba-resident-centers.txt に金額の記載なし）",
    },
    "rates": [
        {"unit_kind": "room", "price": 400, "per": "hour", "rule_id": "T-USE-1"},  # any other room
        *[
            {
                "unit": (center, room["code"]),
                "price": TAMBA_ROOM_PRICES[room["code"]],
                "per": "hour",
                "rule_id": "T-USE-1",
            }
            for center, _ja, _en, rooms in tamba.CENTERS
            for room in rooms
        ],
        {"facility": "sample-school-gym", "price": 1000, "per": "hour", "rule_id": "T-USE-1"},
    ],
    "refunds": [
        {"cause": "own", "until": "D-3 23:59", "percent": 100, "rule_id": "T-CAN-1"},
        {"cause": "own", "until": "", "percent": 0, "rule_id": "T-CAN-1"},
        {"cause": "weather", "until": "", "percent": 100, "rule_id": "T-CAN-2"},
        {"cause": "facility", "until": "", "percent": 100, "rule_id": "T-CAN-2"},
    ],
}

# Kodaira: SAMPLE prices per room and period (午前/午後/夜間 are one slot each).
KODAIRA_ROOM_PRICES = {"assembly-room": 600, "japanese-room": 400, "meeting-room": 300, "craft-room": 400}
KODAIRA = {
    "schedule": {
        "name_ja": "小平市地域センター使用料（サンプル）",
        "name_en": "Kodaira community center fees (sample)",
        "non_resident_percent": 100,
        "non_resident_rule_id": "",
        "is_sample": True,
        "source": "サンプル値（kodaira-community-centers.txt に金額の記載なし、K-USE-2）",
    },
    "rates": [
        {"unit_kind": "room", "price": 400, "rule_id": "K-USE-2"},  # any other room
        *[
            {"unit": (center[0], room["code"]), "price": KODAIRA_ROOM_PRICES[room["code"]], "rule_id": "K-USE-2"}
            for center in kodaira.CENTERS
            for room in center[4]
        ],
    ],
    "refunds": [
        # K-USE-2: paid on the day; K-FC-4: cancelled online the booking day, at the counter afterwards.
        {"cause": "own", "until": "start", "percent": 100, "rule_id": "K-FC-4"},
        {"cause": "own", "until": "", "percent": 0, "cancellable": False, "rule_id": "K-FC-4"},
        {"cause": "weather", "until": "", "percent": 100, "rule_id": NOT_USERS_FAULT},
        {"cause": "facility", "until": "", "percent": 100, "rule_id": NOT_USERS_FAULT},
    ],
    # SAMPLE: the demo group without e-mail is exempt from fees (使用料免除, K-USE-2).
    "exemptions": [
        {
            "username": "kodaira-group2",
            "percent": 100,
            "valid_from": dt.date(2026, 4, 1),
            "note": "使用料免除団体（サンプル）",
        }
    ],
}

DATA = {"shiroi": SHIROI, "tamba": TAMBA, "kodaira": KODAIRA}

# Payment places (S-PAY-4): shiroi-sports-facilities.txt ⑦使用料の支払い ▼使用料の支払い窓口, row by row. Closed days
# are the table's 閉庁・休館日; 年末年始 is 12/29–1/3, as on the project's other calendars (Kodaira's, verified from
# the city): the seed names no dates. Hours (受付時間) only where the seed gives them: 白井運動公園 8:30–17:15 (the
# table) and the city office 8:30–17:15 (開庁日の8時30分から17時15分, the key section); none for the centers.
YEAR_END = kodaira.YEAR_END  # the same 12/29–1/3 rule
HOLIDAYS = {"kind": "holidays", "note": "祝祭日", "note_en": "National holidays"}
MONDAY, TUESDAY, SATURDAY, SUNDAY = 0, 1, 5, 6


WEEKDAY_EN = {MONDAY: "Mondays", TUESDAY: "Tuesdays", SATURDAY: "Saturdays", SUNDAY: "Sundays"}


def _weekly(weekday: int, note: str, note_en: str = "", **extra) -> dict:
    return {"kind": "weekly", "weekday": weekday, "note": note, "note_en": note_en or WEEKDAY_EN[weekday], **extra}


UNDOKOEN_CLOSED = [  # 月曜日・年末年始 (月曜日が祝祭日の場合は祝祭日明け翌営業日)
    _weekly(
        MONDAY,
        "月曜日（祝祭日の場合は祝祭日明けの翌営業日）",
        "Mondays (when Monday is a national holiday, the next working day after it)",
        shift_if_holiday=True,
    ),
    YEAR_END,
]
CITY_OFFICE_CLOSED = [
    _weekly(SATURDAY, "土曜日"),
    _weekly(SUNDAY, "日曜日"),
    HOLIDAYS,
    YEAR_END,
]  # 土・日・祝祭日・年末年始
MONDAY_CENTER_CLOSED = [_weekly(MONDAY, "月曜日"), HOLIDAYS, YEAR_END]  # 月・祝祭日・年末年始
SUNDAY_CENTER_CLOSED = [_weekly(SUNDAY, "日曜日"), HOLIDAYS, YEAR_END]  # 日・祝祭日・年末年始
TUESDAY_CENTER_CLOSED = [_weekly(TUESDAY, "火曜日"), HOLIDAYS, YEAR_END]  # 火・祝祭日・年末年始

UNDOKOEN = ["undokoen-tennis", "undokoen-ground"]  # ■ 白井運動公園: its fees only at 白井運動公園
OTHER_TENNIS = ["nakakido-tennis", "minamiyama-tennis", "nanatsugi-daiichi-tennis", "toyoichi-tennis", "noguchi-tennis"]
OTHER_GROUNDS = ["nakakido-ground", "minamiyama-ground"]  # ナイター(コイン)料金含む
COUNTER_HOURS = {"opens_at": dt.time(8, 30), "closes_at": dt.time(17, 15)}


def _place(name_ja, name_en, facilities, closed, hours=None, **extra) -> dict:
    """``facilities``: the facility codes whose fees the place takes; None: every facility of the municipality."""
    return {
        "name_ja": name_ja,
        "name_en": name_en,
        "facilities": facilities,
        "closed": closed,
        "hours": hours or {"opens_at": None, "closes_at": None},
        **extra,
    }


def _center(name_ja, name_en, closed) -> dict:
    return _place(name_ja, name_en, OTHER_GROUNDS, closed)


PAYMENT_PLACES = {
    "shiroi": [
        _place("白井運動公園", "Shiroi Sports Park", UNDOKOEN + OTHER_TENNIS, UNDOKOEN_CLOSED, COUNTER_HOURS),
        # The city office (生涯学習課, in charge of every site but 白井運動公園) takes the other tennis courts' fees
        # and, as the note under the table says (…記載のある施設の窓口でも支払いが可能です: "also at the listed
        # centers"), the other grounds' too.
        _place(
            "白井市役所生涯学習課",
            "Shiroi City Office, Lifelong Learning Division",
            OTHER_TENNIS + OTHER_GROUNDS,
            CITY_OFFICE_CLOSED,
            COUNTER_HOURS,
            formerly="白井市役所",
        ),
        _center("西白井複合センター", "Nishi-Shiroi Complex Center", MONDAY_CENTER_CLOSED),
        _center("白井駅前センター", "Shiroi Ekimae Center", MONDAY_CENTER_CLOSED),
        _center("桜台センター", "Sakuradai Center", MONDAY_CENTER_CLOSED),
        _center("学習等供用施設（富士センター）", "Fuji Center (learning facility)", MONDAY_CENTER_CLOSED),
        _center("公民センター", "Komin Center", SUNDAY_CENTER_CLOSED),
        _center("白井コミュニティセンター", "Shiroi Community Center", TUESDAY_CENTER_CLOSED),
        _center("西白井コミュニティプラザ", "Nishi-Shiroi Community Plaza", TUESDAY_CENTER_CLOSED),
    ],
    # SAMPLE: the documents name no single place; one counter each for all their facilities.
    "tamba": [_place("丹波市役所（サンプル）", "Tamba City Office (sample)", None, [])],
    "kodaira": [_place("各地域センター窓口（サンプル）", "Community center counters (sample)", None, [])],
}
PLACE_RULE_IDS = {"shiroi": "S-PAY-4", "tamba": "T-PAY-1", "kodaira": "K-USE-2"}
PLACE_CALENDAR_SUFFIX = "（支払窓口）"  # the closure calendars this loader makes for payment places

RATE_DEFAULTS = {"per": "slot", "lit_from": None, "non_resident_multiplied": True, "rule_id": ""}


def load(municipalities: dict, upsert) -> None:
    """``municipalities``: slug → Municipality; ``upsert(model, defaults, **lookup)`` creates or updates a row."""
    for slug, data in DATA.items():
        municipality = municipalities[slug]
        schedule = upsert(FeeSchedule, data["schedule"], municipality=municipality, valid_from=SCHEDULES_FROM)
        kept = [_load_rate(upsert, municipality, schedule, spec).pk for spec in data["rates"]]
        schedule.rates.exclude(pk__in=kept).delete()
        kept = []
        for order, spec in enumerate(data["refunds"], start=1):
            values = {"cancellable": True} | spec
            lookup = {"cause": values.pop("cause"), "order": order}
            kept.append(upsert(RefundRule, values, municipality=municipality, **lookup).pk)
        RefundRule.objects.of(municipality).exclude(pk__in=kept).delete()
        for spec in data.get("exemptions", []):
            values = dict(spec) | {"rule_id": "K-USE-2"}
            user = get_user_model().objects.get(username=values.pop("username"))
            valid_from = values.pop("valid_from")
            upsert(FeeExemption, values, municipality=municipality, user=user, valid_from=valid_from)
        _load_payment_places(upsert, municipality, PAYMENT_PLACES[slug], PLACE_RULE_IDS[slug])
        if "weather" in data:
            upsert(WeatherPolicy, data["weather"], municipality=municipality)
        else:
            WeatherPolicy.objects.filter(municipality=municipality).delete()


def _load_payment_places(upsert, municipality, places: list[dict], rule_id: str) -> None:
    kept_calendars = []
    for spec in places:
        place = _load_payment_place(upsert, municipality, spec, rule_id)
        if place.closure_calendar_id:
            kept_calendars.append(place.closure_calendar_id)
    # Calendars of payment places this loader made before and no longer uses (a place renamed or dropped).
    (
        ClosureCalendar.objects.of(municipality)
        .filter(name__endswith=PLACE_CALENDAR_SUFFIX, facilities__isnull=True)
        .exclude(pk__in=kept_calendars)
        .delete()
    )


def _load_payment_place(upsert, municipality, spec: dict, rule_id: str) -> PaymentPlace:
    name_ja = spec["name_ja"]
    formerly = spec.get("formerly")
    if formerly and not PaymentPlace.objects.filter(municipality=municipality, name_ja=name_ja).exists():
        # Renamed in the demo data: the old row keeps its payments and becomes the new one.
        PaymentPlace.objects.filter(municipality=municipality, name_ja=formerly).update(name_ja=name_ja)
    calendar = None
    if spec["closed"]:
        calendar = upsert(ClosureCalendar, {}, municipality=municipality, name=f"{name_ja}{PLACE_CALENDAR_SUFFIX}")
        kept = []
        for rule in spec["closed"]:
            values = {"shift_if_holiday": False} | rule
            lookup = {key: values.pop(key) for key in ("kind", "weekday", "start_month", "start_day") if key in values}
            kept.append(upsert(ClosureRule, values, calendar=calendar, **lookup).pk)
        calendar.rules.exclude(pk__in=kept).delete()
    place = upsert(
        PaymentPlace,
        {"name_en": spec["name_en"], "closure_calendar": calendar, "rule_id": rule_id, **spec["hours"]},
        municipality=municipality,
        name_ja=name_ja,
    )
    if spec["facilities"] is None:
        place.facilities.clear()
    else:
        place.facilities.set(Facility.objects.filter(municipality=municipality, code__in=spec["facilities"]))
    return place


def _load_rate(upsert, municipality, schedule, spec: dict) -> FeeRate:
    values = RATE_DEFAULTS | spec
    facility = unit = None
    if "unit" in values:
        facility_code, unit_code = values.pop("unit")
        unit = Unit.objects.get(municipality=municipality, facility__code=facility_code, code=unit_code)
    if "facility" in values:
        facility = Facility.objects.get(municipality=municipality, code=values.pop("facility"))
    lookup = {
        "charge": values.pop("charge", "base"),
        "facility": facility,
        "unit": unit,
        "unit_kind": values.pop("unit_kind", ""),
        "fee_category": values.pop("fee_category", ""),
    }
    return upsert(FeeRate, values, schedule=schedule, **lookup)
