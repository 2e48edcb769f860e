"""Carriers: the common Chinese carriers are seeded with the aggregators' codes, and each links a waybill to its tracking page."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from logistics.models import Carrier
from logistics.tests.factories import SEEDED, carrier

pytestmark = pytest.mark.django_db


def test_the_migration_seeds_the_common_chinese_carriers_once():
    Carrier.objects.all().delete()
    SEEDED.seed(apps, None)
    SEEDED.seed(apps, None)

    codes = set(Carrier.objects.values_list("code", flat=True))
    assert {"shunfeng", "zhongtong", "yuantong", "yunda", "ems", "jd", "jtexpress"} <= codes
    assert Carrier.objects.count() == len(SEEDED.CARRIERS)
    assert all("{number}" in template for template in Carrier.objects.values_list("tracking_url_template", flat=True))


def test_a_carrier_links_a_waybill_to_its_tracking_page():
    assert carrier("yunda").tracking_url("YD123") == "https://www.kuaidi100.com/chaxun?com=yunda&nu=YD123"
    assert Carrier(code="x", name="x").tracking_url("1") == ""


def test_the_database_refuses_a_tracking_template_without_the_number():
    with pytest.raises(IntegrityError), transaction.atomic():
        Carrier.objects.create(code="nowhere", name="Nowhere", tracking_url_template="https://example.cn/track")
