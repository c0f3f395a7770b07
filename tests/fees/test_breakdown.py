"""The stored form of a fee (fees.breakdown) and the yen arithmetic (fees.money): integers only, fractions of a yen
cut off (端数計算法 第2条), labels in the reader's language, and stored data that does not add up is refused."""

import datetime as dt
import json

import pytest
from django.utils import translation

from fees import money
from fees.breakdown import FeeBreakdown, FeeLine, LineKind

SHIROI_NIGHT = FeeBreakdown(
    lines=(
        FeeLine(LineKind.BASE, 1050, "S-FEE", 1050, 1, "slot"),
        FeeLine(LineKind.MULTIPLIER, 1050, "S-FEE-1", percent=200),
        FeeLine(LineKind.LIGHTING, 4860, "S-HRS-2", 2430, 2, "hour"),
    ),
    priced_on=dt.date(2027, 5, 10),
    use_date=dt.date(2027, 6, 15),
    schedule_id=7,
    schedule_name_ja="白井市スポーツ施設使用料",
    schedule_valid_from=dt.date(2024, 4, 1),
    fee_category="general",
    resident=False,
)


def test_breakdown__json_round_trip_keeps_every_number():
    data = json.loads(json.dumps(SHIROI_NIGHT.as_dict()))
    assert data["total"] == 6960 and data["currency"] == "JPY"
    assert [line["rule_id"] for line in data["lines"]] == ["S-FEE", "S-FEE-1", "S-HRS-2"]
    assert FeeBreakdown.from_dict(data) == SHIROI_NIGHT


def test_breakdown__labels_follow_the_language():
    with translation.override("ja"):
        labels = [line.label for line in SHIROI_NIGHT.lines]
        assert labels == ["使用料：1,050円 × 1コマ", "市外利用者の加算（2倍）", "照明使用料：2,430円 × 2時間"]
        assert SHIROI_NIGHT.total_label == "使用料合計"
    with translation.override("en"):
        assert [line.label for line in SHIROI_NIGHT.lines] == [
            "Use fee: 1,050 yen × 1 slot",
            "Non-resident surcharge (×2)",
            "Lighting: 2,430 yen × 2 hours",
        ]


def test_breakdown__exemption_labels():
    with translation.override("en"):
        assert FeeLine(LineKind.EXEMPTION, -600, "K-USE-2", percent=100).label == "Fee exemption"
        assert FeeLine(LineKind.EXEMPTION, -313, "K-USE-2", percent=50).label == "Fee reduction (50% exempted)"
    with translation.override("ja"):
        assert FeeLine(LineKind.EXEMPTION, -600, "K-USE-2", percent=100).label == "使用料免除"


@pytest.mark.parametrize(
    "tamper",
    [
        lambda data: data.update(total=1),  # does not add up
        lambda data: data["lines"][0].update(amount=1050.0),  # a float
        lambda data: data["lines"][0].update(kind="tip"),
        lambda data: data.update(version=99),
    ],
)
def test_breakdown__stored_data_that_is_not_a_breakdown_is_refused(tamper):
    data = json.loads(json.dumps(SHIROI_NIGHT.as_dict()))
    tamper(data)
    with pytest.raises(ValueError):
        FeeBreakdown.from_dict(data)


@pytest.mark.parametrize(
    ("amount", "percent", "expected"), [(630, 200, 1260), (625, 50, 312), (1, 50, 0), (999, 33, 329), (0, 50, 0)]
)
def test_money__share_cuts_fractions_of_a_yen_off(amount, percent, expected):
    assert money.share(amount, percent) == expected


@pytest.mark.parametrize(
    ("amount", "percent", "expected"), [(1, 50, 1), (3, 50, 1), (1031, 50, 515), (1, 0, 0), (5, 100, 5)]
)
def test_money__a_refund_below_one_yen_counts_as_one(amount, percent, expected):
    assert money.refund_share(amount, percent) == expected


@pytest.mark.parametrize(("amount", "percent"), [(1.5, 50), (100, 0.5), (True, 50)])
def test_money__only_integers(amount, percent):
    with pytest.raises(TypeError):
        money.share(amount, percent)
