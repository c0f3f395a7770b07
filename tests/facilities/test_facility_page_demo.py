"""The demo's facility pages (issue #21 item 6): sample details and drawn photos labelled サンプル, the Shiroi grounds'
equipment from the seed without the label, photos served by Django outside production."""

import re

import pytest

pytestmark = pytest.mark.django_db


def test_demo__sample_facility_pages_and_seeded_equipment(client, seeded):
    nakajima = client.get("/kodaira/facilities/nakajima/").content.decode()
    assert 'data-test="photos"' in nakajima and "サンプル" in nakajima
    photo = re.search(r'<img src="(/media/demo/[^"]+\.png)" alt="([^"]+)"', nakajima)
    assert photo and photo.group(2)
    served = client.get(photo.group(1))  # Django serves uploads outside production (settings.SERVE_MEDIA)
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    # The Shiroi grounds' equipment is the seed's table: shown without the sample label.
    ground = client.get("/shiroi/facilities/minamiyama-ground/").content.decode()
    assert "ナイター設備：あり" in ground and "sample-label" not in ground
    assert 'data-test="map-link"' in ground
