"""``seed_demo`` loads the fee tables, refund rules and the sample exemption of the three municipalities,
idempotently."""

import io

import pytest
from django.core.management import call_command

from demo.load import load_demo
from fees.models import FeeExemption, FeeRate, FeeSchedule, RefundRule

FEE_MODELS = [FeeSchedule, FeeRate, FeeExemption, RefundRule]


@pytest.mark.django_db
def test_seed_fees__twice__creates_nothing_new():
    call_command("seed_demo", stdout=io.StringIO())
    before = {model: sorted(model.objects.values_list("pk", flat=True)) for model in FEE_MODELS}

    second = load_demo()

    assert second.created_count == 0
    assert {model: sorted(model.objects.values_list("pk", flat=True)) for model in FEE_MODELS} == before


@pytest.mark.django_db
def test_seed_fees__every_municipality_has_a_schedule_and_refund_rules():
    call_command("seed_demo", stdout=io.StringIO())
    schedules = {s.municipality.slug: s for s in FeeSchedule.objects.select_related("municipality")}
    assert set(schedules) == {"kodaira", "shiroi", "tamba"}
    assert not schedules["shiroi"].is_sample and schedules["shiroi"].non_resident_percent == 200  # S-FEE-1
    assert schedules["tamba"].is_sample and schedules["kodaira"].is_sample  # no amounts in their documents
    assert schedules["shiroi"].rates.count() == 13  # 4 rows × 3 categories + lighting
    assert set(RefundRule.objects.values_list("municipality__slug", flat=True)) == {"kodaira", "shiroi", "tamba"}
    assert FeeExemption.objects.get().user.username == "kodaira-group2"


@pytest.mark.django_db
def test_seed_fees__rerun_restores_the_listed_prices_and_rules():
    call_command("seed_demo", stdout=io.StringIO())
    rate = FeeRate.objects.get(
        schedule__municipality__slug="shiroi", facility__code="undokoen-tennis", fee_category="general"
    )
    rate.price = 9999
    rate.save()
    RefundRule.objects.create(
        municipality=rate.schedule.municipality, cause="own", percent=100, rule_id="stray", order=9
    )

    call_command("seed_demo", stdout=io.StringIO())

    assert FeeRate.objects.get(pk=rate.pk).price == 620
    assert not RefundRule.objects.filter(rule_id="stray").exists()
