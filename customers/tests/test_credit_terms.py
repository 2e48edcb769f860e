"""Credit limit, rating and payment terms are finance's decision, whatever path a change takes;
sales ask for a change that finance approves, and every change is on the customer's timeline."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from config.errors import DomainError, PermissionRefused
from config.home import work_queues_for
from config.imports import ImportRejected, import_commit, import_dry_run, read_table
from customers import services
from customers.imports import CustomerImport
from customers.models import CreditChangeRequest, Customer, CustomerEvent

from .factories import CustomerFactory
from .test_admin import customer_post
from .test_import_export import upload

pytestmark = pytest.mark.django_db


def page_form_data(response) -> dict:
    """The hidden inputs a rendered form carries (e.g. its one-time token), to post as a browser would."""
    body = response.content.decode()
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', body))


CUSTOMER_DATA = {
    "name": "上海华东贸易有限公司",
    "kind": "company",
    "language": "zh-hans",
    "segment": "wholesale",
    "credit_limit": "900000.00",
    "credit_rating": "A",
    "payment_terms_days": "90",
}


def edit_data(customer: Customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "kind": customer.kind,
        "language": customer.language,
        "segment": customer.segment,
        "credit_limit": str(customer.credit_limit),
        "credit_rating": customer.credit_rating,
        "payment_terms_days": str(customer.payment_terms_days),
    }
    data.update(changes)
    return data


def terms(customer: Customer) -> tuple:
    customer.refresh_from_db()
    return customer.credit_limit, customer.credit_rating, customer.payment_terms_days


# --- a salesperson cannot change credit terms, by any path ------------------------------------------


def test_salesperson_is_not_offered_the_credit_fields_and_a_posted_limit_is_ignored(client_as):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    client = client_as("sales")
    url = reverse("customers:edit", args=[customer.pk])
    page = client.get(url)
    assert "credit_limit" not in page.context["form"].fields
    assert 'name="credit_limit"' not in page.content.decode()
    data = edit_data(customer, credit_limit="900000.00", credit_rating="A", payment_terms_days="90", phone="+86 21 5555 0100")
    data["loaded_at"] = page.context["form"].initial["loaded_at"]
    response = client.post(url, data)
    assert response.status_code == 302, "the rest of the edit is saved"
    assert terms(customer) == (Decimal("1000.00"), "C", 30)
    assert customer.phone == "+86 21 5555 0100"


@pytest.mark.parametrize(
    "change",
    [{"credit_limit": Decimal("900000.00")}, {"credit_rating": "A"}, {"payment_terms_days": 90}],
)
def test_salesperson_cannot_change_credit_terms_through_the_service(staff, change):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    with pytest.raises(PermissionRefused) as refused:
        services.customer_update(customer=customer, data={"name": customer.name, **change}, by=staff)
    assert refused.value.code == "credit_terms"
    assert terms(customer) == (Decimal("1000.00"), "C", 30)
    assert not customer.events.exists()


def test_salesperson_may_save_a_customer_with_its_credit_terms_unchanged(staff):
    """1000 and 1000.00 are the same limit: an unchanged value is no change."""
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    services.customer_update(
        customer=customer,
        data={"credit_limit": Decimal("1000"), "credit_rating": "C", "payment_terms_days": 30, "phone": "+86 21 1234 5678"},
        by=staff,
    )
    assert terms(customer) == (Decimal("1000.00"), "C", 30) and customer.phone == "+86 21 1234 5678"


def test_salesperson_cannot_create_a_customer_with_a_credit_limit_through_the_service(staff):
    with pytest.raises(DomainError):
        services.customer_create(data={"name": "杭州西湖茶业", "credit_limit": Decimal("500000")}, by=staff)
    assert not Customer.objects.exists()


def test_salesperson_import_rows_that_change_credit_terms_are_refused_row_by_row(make_user):
    seller = make_user("sales")
    customer = CustomerFactory(code="C000042", credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    content = (
        "code,name,credit_limit,credit_rating,payment_terms_days,phone\n"
        f"C000042,{customer.name},1000.00,C,30,+86 21 5555 0100\n"  # row 2: terms as they are: fine
        f"C000042,{customer.name},900000,C,30,\n"  # row 3: raises the limit
        ",新客户,,,,\n"  # row 4: a new customer with the default terms
        ",另一个新客户,50000,,,\n"  # row 5: a new customer with a limit typed in
    )
    spec = CustomerImport(user=seller)
    result = import_dry_run(spec=spec, table=read_table(upload(content), columns=spec.columns))
    by_row = {o.number: o for o in result.outcomes}
    assert by_row[4].ok and not by_row[4].errors
    assert [(e.column, "Only finance or a manager" in e.message) for e in by_row[5].errors] == [("Credit limit", True)]
    assert "the row says 50000" in by_row[5].errors[0].message
    # Row 2 and 3 name the same code (a duplicate error), so check row 3 on its own too.
    single = f"code,name,credit_limit\nC000042,{customer.name},900000\n"
    result = import_dry_run(spec=spec, table=read_table(upload(single), columns=spec.columns))
    assert [e.column for e in result.outcomes[0].errors] == ["Credit limit"]
    with pytest.raises(ImportRejected):
        import_commit(spec=spec, table=read_table(upload(single), columns=spec.columns), by=seller)
    assert terms(customer) == (Decimal("1000.00"), "C", 30)


def test_salesperson_import_page_refuses_a_raised_limit(client_as):
    customer = CustomerFactory(code="C000077", credit_limit=Decimal("1000.00"))
    client = client_as("sales")
    response = client.post(
        reverse("customers:import"), {"file": upload(f"code,name,credit_limit\nC000077,{customer.name},900000\n")}
    )
    body = response.content.decode()
    assert response.context["dry_run"].error_count == 1
    assert "Only finance or a manager may change this" in body and 'name="commit"' not in body
    assert terms(customer)[0] == Decimal("1000.00")


def test_the_import_service_call_refuses_a_row_that_slipped_past_the_form(make_user):
    """The form is one guard; the service is the other: a row saved by a salesperson never changes the terms."""
    seller = make_user("sales")
    customer = CustomerFactory(code="C000088", credit_limit=Decimal("1000.00"))
    spec = CustomerImport(user=make_user("finance"))  # a preview made by finance...
    table = read_table(upload(f"code,name,credit_limit\nC000088,{customer.name},900000\n"), columns=spec.columns)
    with pytest.raises(ImportRejected) as rejected:
        import_commit(spec=spec, table=table, by=seller)  # ...committed by a salesperson
    assert "Only finance or a manager" in rejected.value.dry_run.outcomes[0].errors[0].message
    assert terms(customer)[0] == Decimal("1000.00")


def test_salesperson_with_admin_access_cannot_change_credit_terms_in_the_admin(client, make_user):
    seller = make_user("sales", is_staff=True)
    client.force_login(seller)
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    url = reverse("admin:customers_customer_change", args=[customer.pk])
    page = client.get(url)
    assert page.status_code == 200 and 'name="credit_limit"' not in page.content.decode()
    data = customer_post(customer, credit_limit="900000.00", credit_rating="A", payment_terms_days="90", phone="+86 10 1")
    response = client.post(url, data)
    assert response.status_code == 302
    assert terms(customer) == (Decimal("1000.00"), "C", 30)


# --- finance (and managers) can ------------------------------------------------------------------


def test_finance_changes_the_credit_terms_on_the_page_saying_why(client_as):
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)
    client = client_as("finance")
    url = reverse("customers:edit", args=[customer.pk])
    page = client.get(url)
    loaded_at = page.context["form"].initial["loaded_at"]
    response = client.post(url, {**edit_data(customer, credit_limit="50000.00", credit_rating="A"), "loaded_at": loaded_at})
    assert response.status_code == 400 and "Say why the credit terms change." in response.content.decode()
    data = {**edit_data(customer, credit_limit="50000.00", credit_rating="A"), "loaded_at": loaded_at}
    response = client.post(url, {**data, "credit_note": "Audited accounts received."})
    assert response.status_code == 302
    assert terms(customer) == (Decimal("50000.00"), "A", 30)
    event = customer.events.get(kind=CustomerEvent.Kind.EDITED)
    assert event.by == client.user and event.note == "Audited accounts received."
    assert {"field": "credit_limit", "old": "1000.00", "new": "50000.00"} in event.changes


def test_finance_changes_credit_terms_through_the_service_and_the_import(make_user):
    finance = make_user("finance")
    customer = CustomerFactory(code="C000099", credit_limit=Decimal("1000.00"))
    services.customer_update(customer=customer, data={"credit_limit": Decimal("2000")}, by=finance)
    assert terms(customer)[0] == Decimal("2000.00")
    spec = CustomerImport(user=finance)
    table = read_table(upload(f"code,name,credit_limit\nC000099,{customer.name},3000\n"), columns=spec.columns)
    import_commit(spec=spec, table=table, by=finance)
    assert terms(customer)[0] == Decimal("3000.00")


# --- new customers entered by sales start with the configured default --------------------------------


def test_a_new_customer_entered_by_sales_gets_the_default_limit_not_what_was_typed(client_as, settings):
    settings.DEFAULT_CREDIT_LIMIT = Decimal("2000.00")
    client = client_as("sales")
    page = client.get(reverse("customers:create"))
    assert "credit_limit" not in page.context["form"].fields
    response = client.post(reverse("customers:create"), {**page_form_data(page), **CUSTOMER_DATA})
    assert response.status_code == 302
    customer = Customer.objects.get()
    assert terms(customer) == (Decimal("2000.00"), "B", 30)


def test_the_default_limit_is_zero_unless_configured(staff):
    customer = services.customer_create(data={"name": "杭州西湖茶业"}, by=staff)
    assert customer.credit_limit == Decimal("0")


def test_a_manager_sets_a_new_customers_terms(make_user, settings):
    settings.DEFAULT_CREDIT_LIMIT = Decimal("2000.00")
    customer = services.customer_create(data={"name": "杭州西湖茶业", "credit_limit": Decimal("8000")}, by=make_user("manager"))
    assert terms(customer)[0] == Decimal("8000.00")


# --- sales ask, finance decides ------------------------------------------------------------------------


def test_request_then_approval_puts_the_new_limit_in_place_naming_requester_and_approver(client, make_user):
    seller = make_user("sales", first_name="Fang", last_name="Wang")
    finance = make_user("finance", first_name="Lei", last_name="Chen")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"), credit_rating="C", payment_terms_days=30)

    client.force_login(seller)
    detail = client.get(customer.get_absolute_url()).content.decode()
    assert reverse("customers:credit_request_create", args=[customer.pk]) in detail
    response = client.post(
        reverse("customers:credit_request_create", args=[customer.pk]),
        {"credit_limit": "80000.00", "credit_rating": "", "payment_terms_days": "60", "reason": "New framework contract."},
    )
    assert response.status_code == 302
    assert terms(customer) == (Decimal("1000.00"), "C", 30), "nothing changes before finance decides"
    request = CreditChangeRequest.objects.get()
    assert request.state == CreditChangeRequest.State.PENDING and request.requested_by == seller
    url = reverse("customers:credit_request_decide", args=[request.pk])
    assert client.post(url, {"action": "approve"}).status_code == 403, "sales cannot approve"

    client.force_login(finance)
    queue = next(q for q in work_queues_for(finance) if q.url.startswith(reverse("customers:credit_request_list")))
    assert queue.count == 1 and queue.items == [request]
    listing = client.get(reverse("customers:credit_request_list")).content.decode()
    assert "New framework contract." in listing and url in listing
    response = client.post(url, {"action": "approve", "note": "Checked the contract."})
    assert response.status_code == 302

    assert terms(customer) == (Decimal("80000.00"), "C", 60)
    request.refresh_from_db()
    assert request.state == CreditChangeRequest.State.APPROVED and request.decided_by == finance
    assert request.decided_at is not None
    events = list(customer.events.order_by("at", "pk"))
    asked, approved, edited = events
    assert (asked.kind, asked.by, asked.to_state, asked.note) == ("credit_request", seller, "pending", "New framework contract.")
    assert (approved.kind, approved.by, approved.from_state, approved.to_state) == (
        "credit_request",
        finance,
        "pending",
        "approved",
    )
    assert approved.note == "Checked the contract."
    assert (edited.kind, edited.by, edited.note) == ("edited", finance, "New framework contract.")
    assert {"field": "credit_limit", "old": "1000.00", "new": "80000.00"} in edited.changes
    assert edited.sentence == "Credit change requested by Fang Wang, approved."
    assert asked.actor_label == "Fang Wang" and approved.actor_label == "Lei Chen"
    assert asked.sentence == "Asked for credit limit: 80000.00; payment terms (days): 60"
    page = client.get(customer.get_absolute_url()).content.decode()
    assert "Fang Wang" in page and "Lei Chen" in page and "New framework contract." in page


def test_finance_rejects_a_request_saying_why_and_the_terms_stay(make_user):
    seller, finance = make_user("sales"), make_user("finance")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    request = services.credit_request_create(
        customer=customer, data={"credit_limit": Decimal("90000")}, reason="Big order coming.", by=seller
    )
    with pytest.raises(DomainError):
        services.credit_request_reject(request=request, by=finance, note="")
    services.credit_request_reject(request=request, by=finance, note="Two invoices overdue.")
    request.refresh_from_db()
    assert request.state == CreditChangeRequest.State.REJECTED and request.decided_by == finance
    assert terms(customer)[0] == Decimal("1000.00")
    assert customer.events.filter(kind="credit_request", to_state="rejected", note="Two invoices overdue.").exists()


def test_a_request_asks_for_something_new_and_one_waits_at_a_time(make_user):
    seller = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    with pytest.raises(DomainError, match="different from the customer's current terms"):
        services.credit_request_create(customer=customer, data={"credit_limit": Decimal("1000")}, reason="x", by=seller)
    with pytest.raises(DomainError, match="Say why"):
        services.credit_request_create(customer=customer, data={"credit_limit": Decimal("5000")}, reason=" ", by=seller)
    services.credit_request_create(customer=customer, data={"credit_limit": Decimal("5000")}, reason="x", by=seller)
    with pytest.raises(DomainError, match="already waiting"):
        services.credit_request_create(customer=customer, data={"credit_limit": Decimal("6000")}, reason="y", by=seller)


def test_nobody_approves_their_own_request(make_user):
    manager = make_user("manager")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    request = services.credit_request_create(customer=customer, data={"credit_limit": Decimal("5000")}, reason="x", by=manager)
    with pytest.raises(PermissionRefused):
        services.credit_request_approve(request=request, by=manager)
    assert terms(customer)[0] == Decimal("1000.00")


def test_salesperson_cannot_approve_through_the_service(make_user):
    seller = make_user("sales")
    customer = CustomerFactory(credit_limit=Decimal("1000.00"))
    request = services.credit_request_create(customer=customer, data={"credit_limit": Decimal("5000")}, reason="x", by=seller)
    with pytest.raises(PermissionRefused):
        services.credit_request_approve(request=request, by=make_user("sales"))
    assert terms(customer)[0] == Decimal("1000.00")
