"""The back office changes customers only through the services: checked, on the timeline, naming who."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import Complaint, Customer, CustomerEvent

from .factories import ComplaintFactory, CustomerFactory

pytestmark = pytest.mark.django_db

NO_INLINE_ROWS = {
    f"{prefix}-{name}": value
    for prefix in ("addresses", "contacts")
    for name, value in (("TOTAL_FORMS", "0"), ("INITIAL_FORMS", "0"), ("MIN_NUM_FORMS", "0"), ("MAX_NUM_FORMS", "1000"))
}


@pytest.fixture
def admin_client_as(client, django_user_model):
    admin = django_user_model.objects.create_superuser("boss", "boss@example.com", "pw", first_name="Min", last_name="Zhao")
    client.force_login(admin)
    client.user = admin
    return client


def customer_post(customer: Customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "alt_name": customer.alt_name,
        "kind": customer.kind,
        "tax_id": customer.tax_id,
        "phone": customer.phone,
        "email": customer.email,
        "language": customer.language,
        "credit_limit": str(customer.credit_limit),
        "credit_rating": customer.credit_rating,
        "payment_terms_days": str(customer.payment_terms_days),
        "segment": customer.segment,
        "tags": customer.tags,
        "salesperson": "",
        "notes": customer.notes,
        **NO_INLINE_ROWS,
    }
    data.update(changes)
    return data


def test_credit_limit_changed_in_the_admin_is_on_the_timeline_naming_who(admin_client_as):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="B", payment_terms_days=30)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = admin_client_as.post(
        url, customer_post(customer, credit_limit="900000.00", credit_rating="A", payment_terms_days="90")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    customer.refresh_from_db()
    assert customer.credit_limit == Decimal("900000.00") and customer.credit_rating == "A"
    event = customer.events.get()
    assert event.kind == CustomerEvent.Kind.EDITED and event.by == admin_client_as.user
    assert event.actor_label == "Min Zhao"
    assert {"field": "credit_limit", "old": "1000.00", "new": "900000.00"} in event.changes
    assert {"field": "payment_terms_days", "old": 30, "new": 90} in event.changes


def test_admin_cannot_block_or_unblock_silently(admin_client_as):
    customer = CustomerFactory()
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    response = admin_client_as.post(url, customer_post(customer, is_blocked="on", blocked_reason="via admin"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert not customer.is_blocked and customer.blocked_reason == ""
    assert not customer.events.exists(), "nothing changed, so nothing is recorded"


def test_customer_added_in_the_admin_gets_a_code_and_a_created_row(admin_client_as):
    customer = Customer(name="宁波港口物流", credit_limit=Decimal("5000.00"))
    response = admin_client_as.post(reverse("admin:customers_customer_add"), customer_post(customer))
    assert response.status_code == 302
    created = Customer.objects.get(name="宁波港口物流")
    assert created.code.startswith("C") and len(created.code) == 7
    assert created.events.get().by == admin_client_as.user


def test_admin_edits_a_complaint_on_the_timeline_and_leaves_closed_ones_alone(admin_client_as):
    complaint = ComplaintFactory(subject="外箱破损")
    url = reverse("admin:customers_complaint_change", args=[complaint.pk])
    response = admin_client_as.post(
        url, {"category": "damaged", "subject": "外箱破损（两箱）", "description": complaint.description, "assignee": ""}
    )
    assert response.status_code == 302
    event = complaint.events.get()
    assert event.kind == CustomerEvent.Kind.COMPLAINT_CHANGED and event.by == admin_client_as.user
    closed = ComplaintFactory(state=Complaint.State.CLOSED, resolution="已退款")
    url = reverse("admin:customers_complaint_change", args=[closed.pk])
    admin_client_as.post(url, {"category": "damaged", "subject": "changed", "description": "d", "assignee": ""})
    closed.refresh_from_db()
    assert closed.subject == "保温杯漏水"
