"""Commit and reveal: ``manage.py export_lottery`` publishes the draw; ``scripts/verify_draw.py`` (standard library
only, run as its own process) checks the seed and list against their commits and reproduces every slot's result."""

import datetime as dt
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest
import time_machine
from django.core.management import call_command

from facilities.models import Municipality
from lottery import services
from lottery.models import Application
from tests.reservations.booking_helpers import jst, unit

from .helpers import SHIROI_DRAW, SHIROI_MONTH, SHIROI_RESULTS, apply, draw_of, run_draw

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("seeded")]

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "verify_draw.py"


def export(moment, path):
    with time_machine.travel(moment, tick=False):
        call_command("export_lottery", "shiroi", "2027-06", "-o", str(path), stdout=io.StringIO())
    return json.loads(path.read_text(encoding="utf-8"))


def verify(path):
    return subprocess.run([sys.executable, str(SCRIPT), str(path), "--all"], capture_output=True, text=True, timeout=60)


def test_verify__reproduces_the_draw(shiroi_applications, tmp_path):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    document = export(SHIROI_RESULTS, tmp_path / "draw.json")
    assert document["seed"] == draw_of("shiroi", SHIROI_MONTH).seed
    result = verify(tmp_path / "draw.json")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "VERIFIED" in result.stdout and "OK   all 3 slots give the published results" in result.stdout
    for application in Application.objects.filter(month=SHIROI_MONTH, state="won"):
        assert f"winner: application {application.pk} " in result.stdout


def test_verify__with_loss_weighting(shiroi_players, shiroi_applications, tmp_path):
    """An earlier month in which cat lost everything gives her weight 2 when the policy turns weighting on."""
    policy = Municipality.objects.get(slug="shiroi").lottery_policy
    policy.loss_weighting, policy.loss_weight_cap = True, 3
    policy.save()
    may = dt.date(2027, 5, 1)
    court = unit("shiroi", "nakakido-tennis", "court-1")
    day = dt.date(2027, 5, 20)
    apply(jst(2027, 3, 10, 12), user=shiroi_players["cat"], unit=court, day=day, start="09:00", end="11:00")
    apply(jst(2027, 3, 10, 12), user=shiroi_players["dan"], unit=court, day=day, start="09:00", end="11:00")
    run_draw(jst(2027, 3, 16), "shiroi", may)
    loser = Application.objects.get(month=may, state="lost").user
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    weights = dict(Application.objects.filter(month=SHIROI_MONTH).values_list("user__username", "weight"))
    assert weights[loser.username] == 2
    assert all(weight == 1 for username, weight in weights.items() if username != loser.username)
    document = export(SHIROI_RESULTS, tmp_path / "weighted.json")
    assert document["list"]["weighting"] == {"cap": 3, "enabled": True}
    result = verify(tmp_path / "weighted.json")
    assert result.returncode == 0, result.stdout
    assert "loss weighting on" in result.stdout


def test_verify__detects_a_changed_list_or_result(shiroi_applications, tmp_path):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    document = export(SHIROI_RESULTS, tmp_path / "draw.json")
    tampered = json.loads(json.dumps(document))
    tampered["list"]["applications"].pop()
    (tmp_path / "list.json").write_text(json.dumps(tampered), encoding="utf-8")
    result = verify(tmp_path / "list.json")
    assert result.returncode == 1 and "FAIL application list" in result.stdout
    tampered = json.loads(json.dumps(document))
    ranking = next(slot["ranking"] for slot in tampered["results"]["slots"] if len(slot["ranking"]) > 1)
    ranking[0], ranking[-1] = ranking[-1], ranking[0]
    (tmp_path / "result.json").write_text(json.dumps(tampered), encoding="utf-8")
    assert verify(tmp_path / "result.json").returncode == 1


def test_export__seed_secret_until_the_results_day(shiroi_applications, tmp_path):
    run_draw(SHIROI_DRAW, "shiroi", SHIROI_MONTH)
    record = draw_of("shiroi", SHIROI_MONTH)
    with time_machine.travel(SHIROI_DRAW, tick=False):
        document = services.export_document(record)
    assert document["seed"] is None and document["results"] is None
    assert (
        document["commit"]["seed_sha256"] == record.seed_sha256
        and document["commit"]["list_sha256"] == record.list_sha256
    )
    assert len(document["list"]["applications"]) == 7


def test_draw_lottery_command__dry_run_then_real_then_again(shiroi_applications):
    out = io.StringIO()
    with time_machine.travel(SHIROI_DRAW, tick=False):
        call_command("draw_lottery", "shiroi", "2027-06", "--dry-run", stdout=out)
        assert "DRY RUN, nothing saved" in out.getvalue()
        assert not Application.objects.filter(month=SHIROI_MONTH).exclude(state="applied").exists()
        call_command("draw_lottery", "shiroi", "2027-06", stdout=out)
        assert Application.objects.filter(month=SHIROI_MONTH, state="won").count() == 3
        call_command("draw_lottery", "shiroi", "2027-06", stdout=out)
    assert "already drawn" in out.getvalue()
