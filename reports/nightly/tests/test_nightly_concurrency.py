"""Two runs of the same day's nightly report at once (two beat instances, a manager's "again" during beat's run):
one report, its files written once, and each manager e-mailed once."""

from __future__ import annotations

from datetime import date

import pytest
from django.core import mail
from django.db import connection

from reports.nightly.models import NightlyReport, NightlyReportDelivery, NightlyReportFile
from reports.nightly.services import nightly_report_run
from tests.concurrency import run_together

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]

DAY = date(2026, 11, 29)


def test_two_runs_at_once_make_one_report_and_send_each_manager_one_mail(make_user):
    for n in range(3):
        make_user("manager", email=f"manager{n}@example.com")

    errors = run_together([lambda: nightly_report_run(day=DAY), lambda: nightly_report_run(day=DAY)])

    assert errors == []
    assert NightlyReport.objects.filter(day=DAY).count() == 1
    assert NightlyReportFile.objects.count() == 4 and NightlyReportDelivery.objects.count() == 3
    assert sorted(message.to[0] for message in mail.outbox) == [f"manager{n}@example.com" for n in range(3)]
