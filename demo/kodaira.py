"""Kodaira City community centers (小平市立地域センター): 19 centers, each with a few rooms.

Sources: /work/shared/seeds/kodaira-community-centers.txt (department, phone, K-* rules) and the city's
children's page on community centers (city.kodaira.tokyo.jp/kids/017/017894.html: closed days and the first
eight centers with their phones). Names 学園東町 and 御幸 appear in 市報こだいら (2025-05-20). The other names
are plausible Kodaira place names, marked ``# name not verified``, with no phone.

SAMPLE DATA: the room list of every center, the capacities and the three periods' times are invented for the
demo (the sources give none); the facilities' notes say so to users too.
"""

import datetime as dt

MUNICIPALITY = {
    "slug": "kodaira",
    "name_ja": "小平市",
    "name_en": "Kodaira City",
    "department_ja": "市民協働・男女参画推進課 地域センター担当",
    "department_en": "Civic Collaboration and Gender Equality Division, Community Centers Section",
    "phone": "042-346-9812",
    "address_ja": "東京都小平市小川町2-1333",
    "address_en": "2-1333 Ogawa-cho, Kodaira, Tokyo",
    "website": "https://www.city.kodaira.tokyo.jp/",
}

SLOT_SCHEMES = [
    {
        "code": "three-periods",
        "name_ja": "午前・午後・夜間",
        "name_en": "Morning, afternoon, evening",
        "kind": "periods",
        # Sample values: the source names no period times.
        "periods": [
            {"name_ja": "午前", "name_en": "Morning", "starts": "09:00", "ends": "12:00"},
            {"name_ja": "午後", "name_en": "Afternoon", "starts": "13:00", "ends": "17:00"},
            {"name_ja": "夜間", "name_en": "Evening", "starts": "18:00", "ends": "22:00"},
        ],
    },
]

OPENING_HOURS = [(1, 12, "09:00", "22:00")]

# Verified from the city: 毎月第1・第3火曜日（祝日の場合はその翌日）and 12月29日〜1月3日.
# Every center gets its own calendar with these rules (K-FC-1: first open days differ per center).
YEAR_END = {  # 12/29–1/3; Shiroi's payment places close on the same days (demo/fees.py)
    "kind": "annual",
    "start_month": 12,
    "start_day": 29,
    "end_month": 1,
    "end_day": 3,
    "note": "年末年始",
    "note_en": "Year-end and New Year holidays",
}
REGULAR_CLOSURES = [
    {
        "kind": "nth_weekday",
        "weekday": 1,  # Tuesday
        "weeks_of_month": "1,3",
        "shift_if_holiday": True,
        "note": "毎月第1・第3火曜日（祝日の場合はその翌日）",
        # No English note: the English pages give the rule in words (ClosureRule.describe), which says all of it.
    },
    YEAR_END,
]


def _sample_closure(start, end=None):
    return {
        "kind": "dates",
        "start_date": start,
        "end_date": end,
        "note": "臨時休館（設備点検・サンプル）",
        "note_en": "Closed for an inspection (sample)",
    }


def _room(code, name_ja, name_en, capacity):
    return {
        "code": code,
        "name_ja": name_ja,
        "name_en": name_en,
        "kind": "room",
        "capacity": capacity,
        "scheme": "three-periods",
    }


# Sample room sets (not from the city).
ROOMS_A = [
    _room("assembly-room", "集会室", "Assembly room", 40),
    _room("japanese-room", "和室", "Japanese-style room", 20),
    _room("meeting-room", "会議室", "Meeting room", 15),
]
ROOMS_B = [
    _room("assembly-room", "集会室", "Assembly room", 50),
    _room("japanese-room", "和室", "Japanese-style room", 24),
]
ROOMS_C = [
    _room("assembly-room", "集会室", "Assembly room", 40),
    _room("meeting-room", "会議室", "Meeting room", 20),
    _room("craft-room", "工作室", "Craft room", 16),
    _room("japanese-room", "和室", "Japanese-style room", 20),
]
ROOMS_D = [
    _room("assembly-room", "集会室", "Assembly room", 60),
    _room("japanese-room", "和室", "Japanese-style room", 20),
    _room("craft-room", "工作室", "Craft room", 16),
]

# (code, name_ja, name_en, phone, rooms, one-off closures)
CENTERS = [
    # 2027-07-01 is a Thursday: Nakajima's first open day of July 2027 is the 2nd, the others' the 1st (K-FC-1).
    (
        "nakajima",
        "中島地域センター",
        "Nakajima Community Center",
        "042-345-9010",
        ROOMS_A,
        [_sample_closure(dt.date(2027, 7, 1))],
    ),
    ("josui-shinmachi", "上水新町地域センター", "Josui-shinmachi Community Center", "042-343-9030", ROOMS_B, []),
    # 2027-09-01 is a Wednesday: first open day of September 2027 is the 3rd here.
    (
        "ogawa-nishimachi",
        "小川西町地域センター",
        "Ogawa-nishimachi Community Center",
        "042-344-9010",
        ROOMS_C,
        [_sample_closure(dt.date(2027, 9, 1), dt.date(2027, 9, 2))],
    ),
    (
        "ogawa-nishimachi-nakajuku",
        "小川西町中宿地域センター",
        "Ogawa-nishimachi Nakajuku Community Center",
        "042-344-9111",
        ROOMS_D,
        [],
    ),
    ("ogawa-higashicho", "小川東町地域センター", "Ogawa-higashicho Community Center", "042-343-9060", ROOMS_A, []),
    (
        "ogawa-higashi-daini",
        "小川東第二地域センター",
        "Ogawa-higashi Daini Community Center",
        "042-343-9071",
        ROOMS_B,
        [],
    ),
    ("josui-honcho", "上水本町地域センター", "Josui-honcho Community Center", "042-325-9013", ROOMS_C, []),
    (
        "kihei",
        "喜平地域センター",
        "Kihei Community Center",
        "042-327-9067",
        ROOMS_D,
        [_sample_closure(dt.date(2026, 11, 18))],
    ),
    ("gakuen-higashicho", "学園東町地域センター", "Gakuen-higashicho Community Center", "", ROOMS_A, []),
    ("miyuki", "御幸地域センター", "Miyuki Community Center", "", ROOMS_B, []),
    (
        "gakuen-nishimachi",
        "学園西町地域センター",
        "Gakuen-nishimachi Community Center",
        "",
        ROOMS_C,
        [],
    ),  # name not verified
    ("suzuki", "鈴木地域センター", "Suzuki Community Center", "", ROOMS_D, []),  # name not verified
    ("tenjin", "天神地域センター", "Tenjin Community Center", "", ROOMS_A, []),  # name not verified
    (
        "hanakoganei-minami",
        "花小金井南地域センター",
        "Hanakoganei-minami Community Center",
        "",
        ROOMS_B,
        [],
    ),  # name not verified
    ("onuma", "大沼地域センター", "Onuma Community Center", "", ROOMS_C, []),  # name not verified
    ("nakamachi", "仲町地域センター", "Nakamachi Community Center", "", ROOMS_D, []),  # name not verified
    ("tsuda", "津田地域センター", "Tsuda Community Center", "", ROOMS_A, []),  # name not verified
    ("nonaka", "野中地域センター", "Nonaka Community Center", "", ROOMS_B, []),  # name not verified
    ("misono", "美園地域センター", "Misono Community Center", "", ROOMS_C, []),  # name not verified
]

FACILITIES = [
    {
        "code": code,
        "kind": "community_center",
        "name_ja": name_ja,
        "name_en": name_en,
        "phone": phone,
        "notes_ja": "部屋の構成はデモ用のサンプルです",
        "notes_en": "Room list is sample data",
        "closures": REGULAR_CLOSURES + extra_closures,
        "opening_hours": OPENING_HOURS,
        "units": rooms,
    }
    for code, name_ja, name_en, phone, rooms, extra_closures in CENTERS
]


# Rule profile. Windows are relative to the use date D in month M; see facilities/daterules.py.
FIRST_COME = {
    "opens": "M-1/first-open 09:00",
    "closes": "D-8 23:59",
    "opens_rule_id": "K-FC-1",
    "closes_rule_id": "K-FC-2",
}
LOTTERY_WINDOW = {
    "opens": "M-2/10 00:00",
    "closes": "M-2/19 23:59",
    "opens_rule_id": "K-LOT-1",
    "closes_rule_id": "K-LOT-1",
    "initial_state": "confirmed",
}
PROFILE = {
    "permit_after_payment": False,
    "slot_rule_id": "",  # K-USE-1: permit on confirmation, fee paid on the day; no slot rule id
    "confirm_after_booking_day": True,  # K-FC-4: provisional on the booking day, confirmed from the next day
    "confirm_rule_id": "K-FC-4",
    "online_cancellable_states": "provisional",  # K-FC-4: online only while provisional
    "online_cancel_rule_id": "K-FC-4",
    "unpaid_rule_id": "",  # fees are paid on the day (K-USE-2): no payment deadline
    "registration_rule_id": "K-REG-3",
    "unavailable_channel_rule_id": "K-USE-3",  # no telephone bookings
    # K-REG-3: valid for 3 years; a group that booked and used a room within that period continues into the next
    # year (apply_rolling_renewals). Renewal at the counter at any time.
    "validity_kind": "years_from_issue",
    "validity_years": 3,
    "renewal_opens_months_before": None,
    "rolling_renewal_when_used": True,
    "renewal_rule_id": "K-REG-3",
    "permit_title": "利用承認書",
    # K-REG-1: groups registered at a center's counter, user ID assigned there, a 4-digit numeric password.
    # K-REG-2: ≥ 5 members, at least half 市民等, representative a 市民等, fee ≤ 2,000 yen a month.
    # K-REG-4: groups with an e-mail address reset the password themselves, the others at the counter.
    "registration_kind": "group",
    "account_rule_id": "K-REG-1",
    "pin_digits": 4,
    "online_registration_requests": False,
    "group_min_members": 5,
    "group_min_resident_percent": 50,
    "group_representative_resident": True,
    "group_max_monthly_fee": 2000,
    "eligibility_rule_id": "K-REG-2",
    "min_school_grade": None,
    "guardian_consent_until_grade": None,
    "student_id_required": False,
    "consent_rule_id": "",
    "family_proxies": False,
    "family_proxy_rule_id": "",
    "card_numbers": False,
    "card_reissue_rule_id": "",
    "online_profile_fields": "email,password,language",
    "profile_change_rule_id": "",
    "recovery_rule_id": "K-REG-4",
    "id_recovery_by_name_phone_email": False,
    "windows": [
        {"phase": "first_come", "channel": "online", **FIRST_COME},
        {"phase": "first_come", "channel": "counter", **FIRST_COME},
        # K-LM-1: from D-7 to the use date, counter only; the use permit is issued on the spot.
        {
            "phase": "last_minute",
            "channel": "counter",
            "opens": "D-7 00:00",
            "closes": "start",
            "opens_rule_id": "K-LM-1",
            "closes_rule_id": "K-LM-1",
            "initial_state": "confirmed",
        },
        # K-LOT-1: lottery applications from M-2/10 00:00 to M-2/19 23:59, online or by staff at the counter.
        {"phase": "lottery", "channel": "online", **LOTTERY_WINDOW},
        {"phase": "lottery", "channel": "counter", **LOTTERY_WINDOW},
    ],
    "limits": [
        # K-FC-3: 4 slots per group per center per month, lottery wins included; last-minute bookings do not count.
        {
            "rule_id": "K-FC-3",
            "phase": "first_come",
            "scope": "facility",
            "count": 4,
            "counted_origins": "first_come,lottery",
        },
        # K-LOT-2: 2 lottery applications per group per month of use, across all 19 centers.
        {"rule_id": "K-LOT-2", "phase": "lottery", "scope": "municipality", "count": 2, "counted_origins": "lottery"},
    ],
    # The lottery policy (lottery.models.LotteryPolicy).
    "lottery": {
        "draw_at": "M-2/20 00:00",
        "draw_rule_id": "K-LOT-3",  # the draw runs automatically once applications close
        "results_from": "M-2/20 00:00",
        "results_rule_id": "K-LOT-3",  # results from M-2/20, e-mailed
        "confirmation_required": False,
        "confirm_until": "",
        "confirmation_rule_id": "",
        "win_state": "confirmed",
        "win_rule_id": "K-LOT-4",  # a win is a booking, no confirmation step
        "pay_by": "",
        "pay_by_rule_id": "",  # fees are paid on the day (K-USE-2)
        "residents_only": False,
        "residents_only_rule_id": "",  # every registered group qualifies (K-REG-2)
        "one_per_site_and_time": False,
        "one_per_site_rule_id": "",
        "loss_weighting": False,
        "loss_weight_cap": 3,
    },
}

# Notices on the portal (issue #7 item 4). SAMPLE DATA: the text and the times are invented for the demo.
ANNOUNCEMENTS = [
    {
        "title_ja": "【サンプル】システムメンテナンスのお知らせ",
        "title_en": "[Sample] Scheduled system maintenance",
        "body_ja": (
            "毎月第2水曜日の 2:00〜5:00 は、システムメンテナンスのため予約・抽選の申込みができません。"
            "（デモ用のお知らせです）"
        ),
        "body_en": (
            "Bookings and lottery applications are unavailable on the 2nd Wednesday of each month from 2:00 to 5:00 "
            "for system maintenance. (A demo notice.)"
        ),
        "level": "info",
        "shown_from": "2026-04-01T00:00",
        "shown_until": "2030-04-01T00:00",
    },
]
