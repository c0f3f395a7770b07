"""Helpers for the account tests: counter addresses and form data per profile."""

from django.urls import reverse


def counter(slug: str, name: str, *args) -> str:
    return reverse(f"counter:accounts_{name}", args=[slug, *args])


def kodaira_group(**overrides) -> dict:
    """A Kodaira group that meets K-REG-2 exactly at its edges: 5 members, 3 residents (≥ half), fee 2,000 yen."""
    return {
        "display_name": "小平ヨガの会",
        "person_name": "小平 花子",
        "member_count": 5,
        "resident_member_count": 3,
        "representative_is_resident": "on",
        "monthly_fee": 2000,
        "address": "小平市小川町1-1",
        "phone": "042-000-1111",
        "email": "",
        "identity_document": "drivers_license",
        "password": "2468",
        "password2": "2468",
        "language": "ja",
    } | overrides


def shiroi_person(**overrides) -> dict:
    return {
        "display_name": "白井 次郎",
        "birth_date": "1990-05-05",
        "residency": "resident",
        "address": "白井市復1123",
        "phone": "047-000-2222",
        "email": "jiro@example.com",
        "identity_document": "my_number",
        "password": "tennis-court-7",
        "password2": "tennis-court-7",
        "language": "ja",
    } | overrides


def tamba_card(**overrides) -> dict:
    return {
        "display_name": "春日 一郎",
        "residency": "resident",
        "address": "丹波市春日町1",
        "phone": "0795-00-3333",
        "email": "ichiro@example.com",
        "card_number": "T-0001",
        "identity_document": "health_insurance",
        "password": "kasuga-hall-22",
        "password2": "kasuga-hall-22",
        "language": "ja",
    } | overrides
