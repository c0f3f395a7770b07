"""/health/ (liveness, trivial) and /ready/ (database reachable, django-q2 heartbeat recent): issue #9 item 1.

The heartbeat tests write the cluster's Stat the way django-q2's sentinel does (``broker.set_stat`` into the
shared database cache, 3-second expiry); scripts/prod-smoke.sh checks the same with a real ``qcluster``."""

import os

import pytest
import time_machine
from django.db import connection
from django_q.brokers import get_broker
from django_q.conf import Conf
from django_q.signing import SignedPackage
from django_q.status import Stat, Status

pytestmark = pytest.mark.django_db


def save_heartbeat(status=Conf.IDLE, cluster_id="c0ffee00-0000-4000-8000-000000000001", timeout=3):
    stat = Status(pid=os.getpid(), cluster_id=cluster_id)
    stat.status = status
    stat.workers = [1, 2]
    get_broker().set_stat(Stat.get_key(cluster_id), SignedPackage.dumps(stat, True), timeout)


def test_health__trivial_and_no_database(client, django_assert_num_queries):
    with django_assert_num_queries(0):
        response = client.get("/health/")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready__no_worker__503_with_reason(client):
    response = client.get("/ready/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json()["reason"] == "worker_heartbeat_missing"
    assert response.json()["database"] == "ok"
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_ready__recent_heartbeat__200(client):
    save_heartbeat()
    response = client.get("/ready/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "ready"
    assert body["clusters"][0]["status"] == "Idle"
    assert body["clusters"][0]["workers"] == 2


def test_ready__heartbeat_older_than_its_expiry__503(client):
    with time_machine.travel("2027-05-01 09:00 +09:00", tick=False) as traveller:
        save_heartbeat()
        assert client.get("/ready/").status_code == 200
        traveller.shift(4)  # the sentinel saves every 0.5 s with a 3-second expiry: 4 s without one = stopped
        response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["reason"] == "worker_heartbeat_missing"


def test_ready__stopping_cluster_is_not_ready(client):
    save_heartbeat(status=Conf.STOPPING)
    response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["clusters"][0]["status"] == "Stopping"


def test_ready__worker_check_switched_off(client, settings):
    settings.YOYAKU_READY_REQUIRES_WORKER = False
    response = client.get("/ready/")
    assert response.status_code == 200
    assert response.json()["worker"] == "not checked"


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgresql("kills a PostgreSQL server process")
def test_ready__database_connection_killed__503_database_unreachable_then_ready(client, settings):
    from django.db import close_old_connections

    from tests.ops.test_database_unavailable import kill_portal_connection

    settings.CONN_MAX_AGE = 60
    settings.YOYAKU_READY_REQUIRES_WORKER = False
    assert client.get("/ready/").status_code == 200
    kill_portal_connection()
    response = client.get("/ready/")
    assert response.status_code == 503
    assert response.json()["reason"] == "database_unreachable"
    close_old_connections()  # what the end of a real request does: the dead connection is dropped
    assert client.get("/ready/").status_code == 200
    connection.close()
