"""Tamba City resident centers (丹波市住民センター) and one school facility opened to the public (学校開放).

Source: /work/shared/seeds/tamba-resident-centers.txt (T-* rules). The source lists no rooms, capacities,
addresses or closed days: rooms, capacities, the school's name and the year-end closure are SAMPLE DATA.
"""

import datetime as dt

MUNICIPALITY = {
    "slug": "tamba",
    "name_ja": "丹波市",
    "name_en": "Tamba City",
    # The source names no department or phone (only "各住民センター" and "担当課").
    "website": "https://www.city.tamba.lg.jp/",
}

# T-USE-1: bookings are whole hours of any length.
SLOT_SCHEMES = [
    {
        "code": "hourly",
        "name_ja": "1時間単位",
        "name_en": "Whole hours",
        "kind": "hourly",
        "slot_minutes": 60,
    },
]

OPENING_HOURS = [(1, 12, "09:00", "22:00")]  # T-USE-1

SAMPLE_CLOSURES = [
    {
        "kind": "annual",
        "start_month": 12,
        "start_day": 29,
        "end_month": 1,
        "end_day": 3,
        "note": "年末年始（サンプル）",
        "note_en": "Year-end and New Year holidays (sample)",
    },
]


def _room(code, name_ja, name_en, capacity):
    return {
        "code": code,
        "name_ja": name_ja,
        "name_en": name_en,
        "kind": "room",
        "capacity": capacity,
        "scheme": "hourly",
    }


# Sample rooms (not from the city).
LARGE_MEETING = _room("large-meeting-room", "大会議室", "Large meeting room", 60)
SMALL_MEETING = _room("small-meeting-room", "小会議室", "Small meeting room", 20)
JAPANESE = _room("japanese-room", "和室", "Japanese-style room", 30)
COOKING = _room("cooking-room", "調理室", "Cooking room", 24)

SAMPLE_NOTE_JA = "部屋の構成はデモ用のサンプルです"
SAMPLE_NOTE_EN = "Room list is sample data"

# (code, name_ja, name_en, rooms)
CENTERS = [
    ("kaibara", "柏原住民センター", "Kaibara Resident Center", [LARGE_MEETING, SMALL_MEETING, JAPANESE, COOKING]),
    ("hikami", "氷上住民センター", "Hikami Resident Center", [LARGE_MEETING, SMALL_MEETING, JAPANESE]),
    ("aogaki", "青垣住民センター", "Aogaki Resident Center", [LARGE_MEETING, JAPANESE, COOKING]),
    ("kasuga", "春日住民センター", "Kasuga Resident Center", [LARGE_MEETING, SMALL_MEETING, COOKING]),
    ("sannan", "山南住民センター", "Sannan Resident Center", [LARGE_MEETING, SMALL_MEETING, JAPANESE, COOKING]),
    ("ichijima", "市島住民センター", "Ichijima Resident Center", [LARGE_MEETING, SMALL_MEETING]),
]

FACILITIES = [
    {
        "code": code,
        "kind": "resident_center",
        "name_ja": name_ja,
        "name_en": name_en,
        "notes_ja": SAMPLE_NOTE_JA,
        "notes_en": SAMPLE_NOTE_EN,
        "closures": SAMPLE_CLOSURES,
        "opening_hours": OPENING_HOURS,
        "units": rooms,
    }
    for code, name_ja, name_en, rooms in CENTERS
] + [
    # Sample name: a school gym opened to the public (学校開放); T-APP-1 gives schools a different deadline.
    {
        "code": "sample-school-gym",
        "kind": "school",
        "name_ja": "サンプル小学校体育館（学校開放）",
        "name_en": "Sample Elementary School Gym (open to the public)",
        "notes_ja": "施設名・定員はデモ用のサンプルです",
        "notes_en": "Facility name and capacity are sample data",
        "closures": SAMPLE_CLOSURES,
        "opening_hours": OPENING_HOURS,
        "units": [
            {
                "code": "gym",
                "name_ja": "体育館",
                "name_en": "Gymnasium",
                "kind": "gym",
                "capacity": 100,
                "surface": "wood",
                "scheme": "hourly",
            },
        ],
    },
]


# Rule profile. Windows are relative to the use date D in month M; see facilities/daterules.py.
DUE_IN_15_DAYS = {"pay_by": "B+15 23:59", "pay_by_rule_id": "T-PAY-1"}
DUE_SAME_DAY = {"pay_by": "B 23:59", "pay_by_rule_id": "T-PAY-3"}  # applications from D-21 pay the same day
STAFF_HOURS = {"service_from": "09:00", "service_until": "22:00", "service_rule_id": "T-APP-3"}


def _staff_windows(channel):
    """T-APP-1: counter and telephone from the 1st of M-2 until D-3 (school facilities: 3 business days)."""
    common = {
        "phase": "first_come",
        "channel": channel,
        "opens_rule_id": "T-APP-1",
        "closes_rule_id": "T-APP-1",
        "initial_state": "awaiting_payment",
        **STAFF_HOURS,
    }
    # T-PAY-3: from D-21 the fee is due the same day: at the counter it is paid with the booking; a telephone
    # booking has until the end of the day to come and pay.
    same_day = {**DUE_SAME_DAY, "paid_at_booking": channel == "counter"}
    return [
        {**common, "opens": "M-2/1 00:00", "closes": "D-22 23:59", **DUE_IN_15_DAYS},
        {**common, "opens": "D-21 00:00", "closes": "D-3 23:59", "excluded_facility_kinds": "school", **same_day},
        {**common, "opens": "D-21 00:00", "closes": "D-3bd 23:59", "facility_kinds": "school", **same_day},
    ]


TERMS_JA = (
    "【見本】丹波市「施設利用申込方法」の利用のきまりを短くまとめたデモ用の文面です。\n"
    "・使用時間は、部屋の鍵を受け取ってから返却するまでの時間です。準備や後片付けの時間も含めて申し込んでください"
    "（使用できるのは午前9時から午後10時まで）。\n"
    "・使用料は納付期限（申請から15日以内。使用日の3週間前からは原則として即日）までに住民センターの窓口で納めて"
    "ください。期限までに納付がないときは、予約は取り消されます。納付を確認したのち、施設使用許可書を交付します。\n"
    "・取消は、使用日の3日前までに予約申請をした住民センターへ連絡してください（電話可）。インターネットからは"
    "取り消せません。3日前までの取消は使用料を全額還付し、前々日・前日・当日の取消は還付できません"
    "（自己の責めによらない理由によるものを除く）。"
)
TERMS_EN = (
    "[Sample] A short demo wording of the rules of use in Tamba's guide (施設利用申込方法).\n"
    "- The time of use runs from picking up the key to returning it: include setting up and clearing up "
    "(rooms can be used from 09:00 to 22:00).\n"
    "- Pay the fee at a resident center's counter by the payment deadline (within 15 days of the application; "
    "from 3 weeks before the day of use, as a rule on the same day). Unpaid by then, the booking is cancelled. "
    "Once the fee is paid, the use permit (施設使用許可書) is issued.\n"
    "- To cancel, contact the resident center by the end of the 3rd day before the day of use (by phone too); it "
    "cannot be cancelled online. Until then the whole fee is refunded; from the 2nd day before, nothing is "
    "refunded (unless the cancellation is not your fault)."
)


PROFILE = {
    "permit_after_payment": True,
    "slot_rule_id": "T-USE-1",  # T-PAY-1: permit when paid; T-USE-1: whole hours 9–22
    "confirm_after_booking_day": False,  # T-PAY-1: confirmed when paid
    "confirm_rule_id": "T-PAY-1",
    "online_cancellable_states": "",  # T-CAN-1: cancellations go to the center (telephone allowed)
    "online_cancel_rule_id": "T-CAN-1",
    "unpaid_rule_id": "T-PAY-2",
    "registration_rule_id": "T-REG-1",
    "unavailable_channel_rule_id": "",
    # T-REG-1: the card is valid 3 years from issue; renewal at a center from 3 months before expiry.
    "validity_kind": "years_from_issue",
    "validity_years": 3,
    "renewal_opens_months_before": 3,
    "rolling_renewal_when_used": False,
    "renewal_rule_id": "T-REG-1",
    "permit_title": "施設使用許可書",
    # Issue #21 item 5: the document asks no purpose or number of people of an online booking (ask_* empty); the
    # terms are its own rules of use (使用時間, 使用料, 使用の取消), shortened: a SAMPLE wording, marked as such.
    "ask_purpose": "",
    "ask_headcount": "",
    "terms_ja": TERMS_JA,
    "terms_en": TERMS_EN,
    # T-USE-1: sports facilities may start at 07:00 when staff approve it in advance (a counter override).
    "early_start_from": dt.time(7, 0),
    "early_start_unit_kinds": "gym,court,ground",
    "early_start_rule_id": "T-USE-1",
    "grant_rule_id": "T-APP-5",  # T-APP-5: staff grant outside the windows for a public event (counter overrides)
    # T-REG-1: card registrations with a card number. T-REG-2: a lost card withdraws the registration, a new one
    # is issued (new ID). T-REG-3: name, address and e-mail are changed at a center. T-REG-4: ID and password
    # recovered online by name, phone and e-mail.
    "registration_kind": "card_holder",
    "account_rule_id": "T-REG-1",
    "pin_digits": None,
    "online_registration_requests": False,
    "group_min_members": None,
    "group_min_resident_percent": None,
    "group_representative_resident": False,
    "group_max_monthly_fee": None,
    "eligibility_rule_id": "",
    "min_school_grade": None,
    "guardian_consent_until_grade": None,
    "student_id_required": False,
    "consent_rule_id": "",
    "family_proxies": False,
    "family_proxy_rule_id": "",
    "card_numbers": True,
    "card_reissue_rule_id": "T-REG-2",
    "online_profile_fields": "password,language",
    "profile_change_rule_id": "T-REG-3",
    "recovery_rule_id": "T-REG-4",
    "id_recovery_by_name_phone_email": True,
    "windows": [
        # T-APP-2, T-APP-3: online from the 1st of M-2 until D-22, 10:00–24:00.
        {
            "phase": "first_come",
            "channel": "online",
            "opens": "M-2/1 00:00",
            "closes": "D-22 23:59",
            "opens_rule_id": "T-APP-2",
            "closes_rule_id": "T-APP-2",
            "initial_state": "awaiting_payment",
            "service_from": "10:00",
            "service_until": "00:00",
            "service_rule_id": "T-APP-3",
            **DUE_IN_15_DAYS,
        },
        *_staff_windows("counter"),
        *_staff_windows("phone"),
    ],
    "limits": [],
}

# Notices on the portal (issue #7 item 4). SAMPLE DATA: the text and the times are invented for the demo.
ANNOUNCEMENTS = [
    {
        "title_ja": "【サンプル】年末年始の休館について",
        "title_en": "[Sample] Year-end closure",
        "body_ja": "各住民センターは 12月29日から1月3日まで休館します。（デモ用のお知らせです）",
        "body_en": "The resident centers are closed from December 29 to January 3. (A demo notice.)",
        "level": "info",
        "shown_from": "2026-04-01T00:00",
        "shown_until": "2030-04-01T00:00",
    },
]
