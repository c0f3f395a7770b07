"""Shiroi City sports facilities (白井市スポーツ施設): 9 sites, 20 bookable units.

Source: /work/shared/seeds/shiroi-sports-facilities.txt (対象施設, 利用時間, グラウンド施設の特徴);
digest: RULES.md, Shiroi table and S-HRS-1.

The seed names closed days only for the payment and key counters (市役所: 土・日・祝祭日・年末年始), not for
the courts and grounds themselves, so no facility here has a closure calendar: they are open every day.
"""

MUNICIPALITY = {
    "slug": "shiroi",
    "name_ja": "白井市",
    "name_en": "Shiroi City",
    "department_ja": "教育部生涯学習課",
    "department_en": "Lifelong Learning Division, Board of Education",
    "phone": "047-492-1111",
    "address_ja": "千葉県白井市復1123",
    "address_en": "1123 Fuku, Shiroi, Chiba",
    "website": "https://www.city.shiroi.chiba.jp/",
}

# S-HRS-1: one slot is 2 hours.
SLOT_SCHEMES = [
    {
        "code": "two-hours",
        "name_ja": "2時間枠",
        "name_en": "2-hour slots",
        "kind": "fixed_length",
        "slot_minutes": 120,
    },
]

# S-HRS-1 opening hours, as (first month, last month, opens, closes); months are inclusive and may wrap.
SUMMER_7_TO_19 = (4, 9, "07:00", "19:00")
HOURS_UNDOKOEN_TENNIS = [SUMMER_7_TO_19, (10, 3, "09:00", "17:00")]
HOURS_STANDARD = [SUMMER_7_TO_19, (10, 3, "07:00", "17:00")]  # other tennis, 運動公園 and 中木戸 grounds
HOURS_MINAMIYAMA_GROUND = [(1, 12, "07:00", "21:00")]  # night lights, all year

CITY_OFFICE_PHONE = "047-492-1111"  # 生涯学習課スポーツ振興係 handles every site but 白井運動公園
UNDOKOEN_PHONE = "047-497-0222"  # 白井運動公園


def _courts(count, surface):
    """Courts 1…count of one site: 1番コート / Court 1, code court-1, …"""
    return [
        {
            "code": f"court-{n}",
            "name_ja": f"{n}番コート",
            "name_en": f"Court {n}",
            "kind": "court",
            "surface": surface,
            "scheme": "two-hours",
        }
        for n in range(1, count + 1)
    ]


FACILITIES = [
    {
        "code": "nakakido-tennis",
        "kind": "tennis",
        "name_ja": "中木戸公園（ドクターマークすこやか公園）テニスコート",
        "name_en": "Nakakido Park (Doctor Mark Sukoyaka Park) Tennis Courts",
        "address_ja": "白井市大山口1-26",
        "address_en": "1-26 Oyamaguchi, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "opening_hours": HOURS_STANDARD,
        "units": _courts(2, "artificial_turf"),
    },
    {
        "code": "minamiyama-tennis",
        "kind": "tennis",
        "name_ja": "南山公園テニスコート",
        "name_en": "Minamiyama Park Tennis Courts",
        "address_ja": "白井市南山1-4",
        "address_en": "1-4 Minamiyama, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "opening_hours": HOURS_STANDARD,
        "units": _courts(3, "artificial_turf"),
    },
    {
        "code": "nanatsugi-daiichi-tennis",
        "kind": "tennis",
        "name_ja": "七次第一公園テニスコート",
        "name_en": "Nanatsugi Daiichi Park Tennis Courts",
        "address_ja": "白井市清水口2-2",
        "address_en": "2-2 Shimizuguchi, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "has_parking": False,  # 七次第一公園には駐車場がありません。
        "notes_ja": "駐車場なし",
        "notes_en": "No parking",
        "opening_hours": HOURS_STANDARD,
        "units": _courts(2, "clay"),
    },
    {
        "code": "toyoichi-tennis",
        "kind": "tennis",
        "name_ja": "十余一公園テニスコート",
        "name_en": "Toyoichi Park Tennis Courts",
        "address_ja": "白井市桜台2-18",
        "address_en": "2-18 Sakuradai, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "opening_hours": HOURS_STANDARD,
        "units": _courts(2, "hard"),
    },
    {
        "code": "noguchi-tennis",
        "kind": "tennis",
        "name_ja": "野口多目的広場テニスコート",
        "name_en": "Noguchi Multipurpose Field Tennis Courts",
        "address_ja": "白井市野口127",
        "address_en": "127 Noguchi, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "opening_hours": HOURS_STANDARD,
        "units": _courts(2, "hard"),
    },
    {
        "code": "undokoen-tennis",
        "kind": "tennis",
        "name_ja": "白井運動公園テニスコート",
        "name_en": "Shiroi Sports Park Tennis Courts",
        "address_ja": "白井市神々廻1728-1",
        "address_en": "1728-1 Shishiba, Shiroi",
        "phone": UNDOKOEN_PHONE,
        "opening_hours": HOURS_UNDOKOEN_TENNIS,
        "units": _courts(6, "artificial_turf"),
    },
    {
        "code": "nakakido-ground",
        "kind": "ground",
        "name_ja": "中木戸公園（ドクターマークすこやか公園）グラウンド",
        "name_en": "Nakakido Park (Doctor Mark Sukoyaka Park) Ground",
        "address_ja": "白井市大山口1-26",
        "address_en": "1-26 Oyamaguchi, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "notes_ja": "照明器具を持ち込む場合は、市役所生涯学習課窓口への申請により21時まで使用できます。",
        "notes_en": "With your own lights, the ground may be used until 21:00 on application at the city office.",
        "opening_hours": HOURS_STANDARD,
        "units": [
            {
                "code": "ground",
                "name_ja": "グラウンド",
                "name_en": "Ground",
                "kind": "ground",
                "features_ja": "マウンドなし・サッカーゴールあり・ベース移動式・ナイター設備なし",
                "features_en": "No mound; soccer goals; movable bases; no night lights",
                "scheme": "two-hours",
            }
        ],
    },
    {
        "code": "minamiyama-ground",
        "kind": "ground",
        "name_ja": "南山公園グラウンド",
        "name_en": "Minamiyama Park Ground",
        "address_ja": "白井市南山1-4",
        "address_en": "1-4 Minamiyama, Shiroi",
        "phone": CITY_OFFICE_PHONE,
        "opening_hours": HOURS_MINAMIYAMA_GROUND,
        "units": [
            {
                "code": "ground",
                "name_ja": "グラウンド",
                "name_en": "Ground",
                "kind": "ground",
                "has_night_lights": True,  # S-HRS-2: lighting charge after dark
                "features_ja": "マウンドあり・ミニサッカーゴールあり・ベース固定式・ナイター設備あり",
                "features_en": "Mound; mini soccer goals; fixed bases; night lights",
                "scheme": "two-hours",
            }
        ],
    },
    {
        "code": "undokoen-ground",
        "kind": "ground",
        "name_ja": "運動公園グラウンド",
        "name_en": "Shiroi Sports Park Ground",
        "address_ja": "白井市神々廻1728-1",
        "address_en": "1728-1 Shishiba, Shiroi",
        "phone": UNDOKOEN_PHONE,
        "opening_hours": HOURS_STANDARD,
        "units": [
            {
                "code": "ground",
                "name_ja": "グラウンド",
                "name_en": "Ground",
                "kind": "ground",
                "features_ja": "マウンドあり・サッカーゴールあり・ベース固定式・ナイター設備なし",
                "features_en": "Mound; soccer goals; fixed bases; no night lights",
                "scheme": "two-hours",
            }
        ],
    },
]


# Issue #21 item 5: terms to accept on the booking form, from the document's 利用上の注意事項 and its rules on
# payment, deletion and cancelling (S-PAY-2, S-CAN-1, S-CAN-2), shortened: a SAMPLE wording, marked as such.
TERMS_JA = (
    "【見本】白井市スポーツ施設の「利用上の注意事項」などを短くまとめたデモ用の文面です。\n"
    "・インターネットの予約は仮予約です。使用料を支払い期限（利用日の7日前）までに窓口で納めてください。"
    "納入がないときは、仮予約は無効として利用日の6日前に自動的に削除されます。\n"
    "・支払い後の変更・取消は、利用日の7日前までに窓口で行ってください。自己都合による取消は、使用料の半額を"
    "返金します。\n"
    "・グラウンドは、使用後に必ずトンボがけ等の整備を行い、強風の際は散水してください。硬式野球は禁止です。"
    "鍵を借り忘れた場合は利用できませんので、貸出場所の休館日にご注意ください。\n"
    "・駐車場やプレー中の大声などは近隣住民の迷惑となります。特に早朝や休日の利用の際には、ご配慮ください。"
)
TERMS_EN = (
    "[Sample] A short demo wording of Shiroi's notes on using its sports facilities (利用上の注意事項).\n"
    "- An online booking is provisional. Pay the fee at a counter by the payment deadline (7 days before the day "
    "of use). Unpaid by then, the provisional booking is void and deleted automatically 6 days before the day.\n"
    "- Once paid, a booking is changed or cancelled at a counter, up to 7 days before the day of use. Cancelling "
    "for your own reasons refunds half of the fee.\n"
    "- On a ground, level it (トンボがけ) after use, and water it in strong wind. Hardball baseball is not allowed. "
    "Without the key the ground cannot be used: mind the closed days of the place that lends it.\n"
    "- Car parks and loud voices during play disturb the neighbours; take care especially early in the morning "
    "and on holidays."
)


# Rule profile. Windows are relative to the use date D in month M; see facilities/daterules.py.
PAID_BY_D7 = {"pay_by": "D-7 23:59", "pay_by_rule_id": "S-PAY-2"}
LOTTERY_WINDOW = {
    "opens": "M-2/5 08:30",
    "closes": "M-2/15 23:59",
    "opens_rule_id": "S-LOT-1",
    "closes_rule_id": "S-LOT-1",
    "initial_state": "provisional",
}
PROFILE = {
    "permit_after_payment": True,
    "slot_rule_id": "S-HRS-1",  # S-PAY-1: permit with payment; S-HRS-1: 2-hour slots
    "confirm_after_booking_day": False,  # S-PAY-1: provisional until paid
    "confirm_rule_id": "S-PAY-1",
    "online_cancellable_states": "provisional",  # S-PAY-3: unpaid bookings can be cancelled online
    "online_cancel_rule_id": "S-CAN-1",  # paid ones only at the counter
    "unpaid_rule_id": "S-PAY-2",
    "registration_rule_id": "S-REG-3",
    "unavailable_channel_rule_id": "",
    # S-REG-3: valid until March 31 of the year after the registration or renewal day; renewal at any time.
    "validity_kind": "until_march_31_next_year",
    "validity_years": 3,  # years: not used by this kind
    "renewal_opens_months_before": None,
    "rolling_renewal_when_used": False,
    "renewal_rule_id": "S-REG-3",
    "permit_title": "施設利用許可書",  # the document's word (鍵の貸出: 施設利用許可書; GLOSSARY: 許可証・許可書)
    "terms_ja": TERMS_JA,
    "terms_en": TERMS_EN,
    "walk_in_rule_id": "S-FC-3",  # S-FC-3: the counter also books for unregistered persons, paid at once
    # S-REG-1: individuals from the first year of elementary school; online requests wait for the identity check
    # at the counter. S-REG-2: guardian's consent for elementary/junior-high pupils, student ID for the student
    # rate. S-REG-5: family proxies.
    "registration_kind": "individual",
    "account_rule_id": "S-REG-1",
    "pin_digits": None,
    "online_registration_requests": True,
    "group_min_members": None,
    "group_min_resident_percent": None,
    "group_representative_resident": False,
    "group_max_monthly_fee": None,
    "eligibility_rule_id": "",
    "min_school_grade": 1,
    "guardian_consent_until_grade": 9,
    "student_id_required": True,
    "consent_rule_id": "S-REG-2",
    "family_proxies": True,
    "family_proxy_rule_id": "S-REG-5",
    "card_numbers": False,
    "card_reissue_rule_id": "",
    "online_profile_fields": "email,password,language",
    "profile_change_rule_id": "",
    "recovery_rule_id": "",
    "id_recovery_by_name_phone_email": False,
    "windows": [
        {
            "phase": "first_come",
            "channel": "online",
            "opens": "M-1/3 08:30",
            "closes": "D-7 23:59",
            "opens_rule_id": "S-FC-2",
            "closes_rule_id": "S-FC-2",
            **PAID_BY_D7,
        },
        {
            "phase": "first_come",
            "channel": "counter",
            "opens": "M-1/3 08:30",
            "closes": "D-7 23:59",
            "opens_rule_id": "S-FC-3",
            "closes_rule_id": "S-FC-3",
            **PAID_BY_D7,
        },
        # S-FC-3: from D-6 the counter keeps booking until the use time, and the fee is paid at application: the
        # booking is made only together with its payment (fees.services.book_and_pay).
        {
            "phase": "first_come",
            "channel": "counter",
            "opens": "D-6 00:00",
            "closes": "start",
            "opens_rule_id": "S-FC-3",
            "closes_rule_id": "S-FC-3",
            "initial_state": "awaiting_payment",
            "pay_by": "B 23:59",
            "pay_by_rule_id": "S-FC-3",
            "paid_at_booking": True,
        },
        # S-LOT-1: lottery applications from M-2/5 08:30 to M-2/15 23:59 (residents only: the policy below).
        {"phase": "lottery", "channel": "online", **LOTTERY_WINDOW},
        {"phase": "lottery", "channel": "counter", **LOTTERY_WINDOW},
    ],
    "limits": [
        # S-FC-4: 10 slots per person per site per month, lottery wins included; lifted from D-6.
        {
            "rule_id": "S-FC-4",
            "phase": "first_come",
            "scope": "facility",
            "count": 10,
            "counted_origins": "first_come,lottery",
            "lifted_from": "D-6 00:00",
        },
        # S-LOT-2: 10 lottery applications per person per month of use across all sports facilities.
        {"rule_id": "S-LOT-2", "phase": "lottery", "scope": "municipality", "count": 10, "counted_origins": "lottery"},
    ],
    # The lottery policy (lottery.models.LotteryPolicy).
    "lottery": {
        "draw_at": "M-2/16 00:00",
        "draw_rule_id": "S-LOT-4",  # draw on the 16th–17th (automatic)
        "results_from": "M-2/18 00:00",
        "results_rule_id": "S-LOT-5",
        # S-LOT-5: winners confirm (or forfeit) from the 18th until the 25th; unconfirmed wins purged on the 26th.
        "confirmation_required": True,
        "confirm_until": "M-2/25 23:59",
        "confirmation_rule_id": "S-LOT-5",
        "win_state": "provisional",
        "win_rule_id": "S-LOT-5",  # confirmed win: provisional until paid (S-PAY-1)
        "pay_by": "D-7 23:59",
        "pay_by_rule_id": "S-PAY-2",  # as first-come bookings
        "residents_only": True,
        "residents_only_rule_id": "S-REG-4",
        "one_per_site_and_time": True,
        "one_per_site_rule_id": "S-LOT-3",
        "loss_weighting": False,
        "loss_weight_cap": 3,
    },
}

# Notices on the portal (issue #7 item 4). SAMPLE DATA: the text and the times are invented for the demo.
ANNOUNCEMENTS = [
    {
        "title_ja": "【サンプル】雨天・猛暑時の利用について",
        "title_en": "[Sample] Use in rain or extreme heat",
        "body_ja": (
            "雨天やグラウンド不良、暑さ指数が高い日は利用を中止することがあります。"
            "中止となった予約は「予約一覧」から1年以内の別の日に振り替えられます。"
            "還付は窓口で受け付けます。（デモ用のお知らせです）"
        ),
        "body_en": (
            "Use may be called off in rain, on a waterlogged ground or on days of extreme heat. A stopped booking "
            "can be moved to another day within a year from My bookings; refunds are paid at the counter. "
            "(A demo notice.)"
        ),
        "level": "warning",
        "shown_from": "2026-04-01T00:00",
        "shown_until": "2030-04-01T00:00",
    },
]
