"""Demo accounts: residents, a non-resident, a counter clerk and an administrator per municipality, and an operator.

Registration validity (valid_from/valid_until) is computed by the loader from REGISTERED_ON, following each
profile (K-REG-3, S-REG-3, T-REG-1), so the data is the same on every run. Staff and the operator have none.
"""

import datetime as dt

REGISTERED_ON = dt.date(2026, 4, 1)

DEMO_PASSWORD = "yoyaku-demo"
KODAIRA_PIN = "1357"  # K-REG-1: groups choose a 4-digit numeric password (validators bypassed on purpose)

ADMIN_GROUP = "municipal administrators"

USERS = [
    # Kodaira (K-REG-1, K-REG-2): group registrations of residents only. A non-resident group cannot
    # register in Kodaira (the representative and at least half the members must be 市民等), so there is none.
    {
        "username": "kodaira-group1",
        "password": KODAIRA_PIN,
        "municipality": "kodaira",
        "account_kind": "group",
        "display_name": "小平太極拳の会",
        "email": "kodaira-group1@example.com",
    },  # has an address (K-REG-4, K-LOT-3)
    {
        "username": "kodaira-group2",
        "password": KODAIRA_PIN,
        "municipality": "kodaira",
        "account_kind": "group",
        "display_name": "こだいら合唱サークル",
    },  # no address: sees lottery results after login only
    {
        "username": "kodaira-clerk",
        "password": DEMO_PASSWORD,
        "municipality": "kodaira",
        "account_kind": "staff",
        "staff_role": "clerk",
        "display_name": "小平市 窓口職員（デモ）",
    },
    {
        "username": "kodaira-admin",
        "password": DEMO_PASSWORD,
        "municipality": "kodaira",
        "account_kind": "staff",
        "staff_role": "administrator",
        "display_name": "小平市 管理者（デモ）",
    },
    # Shiroi (S-REG-1 individuals; S-REG-4 residency; fee categories of the Shiroi fee table).
    {
        "username": "shiroi-resident",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "individual",
        "display_name": "白井 一郎",
    },
    {
        "username": "shiroi-student",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "individual",
        "fee_category": "student",
        "display_name": "白井 花子",
    },
    {
        "username": "shiroi-child",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "individual",
        "fee_category": "child",
        "display_name": "白井 翔太",
    },
    {
        "username": "shiroi-visitor",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "individual",
        "residency": "non_resident",
        "display_name": "印西 太郎",
    },
    {
        "username": "shiroi-clerk",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "staff",
        "staff_role": "clerk",
        "display_name": "白井市 窓口職員（デモ）",
    },
    {
        "username": "shiroi-admin",
        "password": DEMO_PASSWORD,
        "municipality": "shiroi",
        "account_kind": "staff",
        "staff_role": "administrator",
        "display_name": "白井市 管理者（デモ）",
    },
    # Tamba (T-REG-1 card holders).
    {
        "username": "tamba-resident1",
        "password": DEMO_PASSWORD,
        "municipality": "tamba",
        "account_kind": "card_holder",
        "display_name": "丹波バドミントンクラブ",
    },
    {
        "username": "tamba-resident2",
        "password": DEMO_PASSWORD,
        "municipality": "tamba",
        "account_kind": "card_holder",
        "display_name": "氷上 和子",
        # T-REG-4: name, phone and e-mail recover the user ID and password (/accounts/recover/).
        "email": "tamba-resident2@example.com",
        "phone": "0795-82-0000",
    },
    {
        "username": "tamba-visitor",
        "password": DEMO_PASSWORD,
        "municipality": "tamba",
        "account_kind": "card_holder",
        "residency": "non_resident",
        "display_name": "篠山 次郎",
    },
    {
        "username": "tamba-clerk",
        "password": DEMO_PASSWORD,
        "municipality": "tamba",
        "account_kind": "staff",
        "staff_role": "clerk",
        "display_name": "丹波市 窓口職員（デモ）",
    },
    {
        "username": "tamba-admin",
        "password": DEMO_PASSWORD,
        "municipality": "tamba",
        "account_kind": "staff",
        "staff_role": "administrator",
        "display_name": "丹波市 管理者（デモ）",
    },
    # The operator of the whole deployment: no municipality.
    {
        "username": "operator",
        "password": DEMO_PASSWORD,
        "municipality": None,
        "account_kind": "staff",
        "is_superuser": True,
        "display_name": "運用管理者",
    },
]
