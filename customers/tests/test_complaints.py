from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from config.errors import DomainError
from customers import services
from customers.models import Complaint, CustomerEvent
from customers.selectors import home_queues
from tests.submissions import with_token

from .factories import ComplaintFactory, CustomerFactory, make_order

pytestmark = pytest.mark.django_db

S = Complaint.State
# (action, from state) -> target state; every other pair is refused.
ALLOWED = {
    ("start", S.OPEN): S.IN_PROGRESS,
    ("resolve", S.IN_PROGRESS): S.RESOLVED,
    ("close", S.RESOLVED): S.CLOSED,
    ("reopen", S.RESOLVED): S.OPEN,
    ("reopen", S.CLOSED): S.OPEN,
}
ALL_PAIRS = [(action, state) for action in ("start", "resolve", "close", "reopen") for state in S.values]


def complaint_in(state: str, **extra) -> Complaint:
    resolution = "已补发 3 只保温杯" if state in (S.RESOLVED, S.CLOSED) else ""
    return ComplaintFactory(state=state, resolution=resolution, **extra)


@pytest.mark.parametrize("action, state", [p for p in ALL_PAIRS if p in ALLOWED])
def test_allowed_complaint_transitions(staff, action, state):
    complaint = complaint_in(state)
    result = services.complaint_transition(
        complaint=complaint,
        action=action,
        by=staff,
        note="已电话联系客户",
        resolution="已补发 3 只保温杯" if action == "resolve" else None,
    )
    assert result.state == ALLOWED[(action, state)]
    event = complaint.events.get()
    assert (event.kind, event.from_state, event.to_state, event.by, event.note) == (
        CustomerEvent.Kind.COMPLAINT_STATE,
        state,
        ALLOWED[(action, state)],
        staff,
        "已电话联系客户",
    )
    assert event.customer_id == complaint.customer_id


@pytest.mark.parametrize("action, state", [p for p in ALL_PAIRS if p not in ALLOWED])
def test_refused_complaint_transitions_change_nothing(staff, action, state):
    complaint = complaint_in(state)
    with pytest.raises(DomainError):
        services.complaint_transition(complaint=complaint, action=action, by=staff, resolution="x")
    assert Complaint.objects.get(pk=complaint.pk).state == state
    assert not complaint.events.exists()


def test_resolving_needs_a_written_resolution(staff):
    complaint = complaint_in(S.IN_PROGRESS)
    for resolution in (None, "", "   "):
        with pytest.raises(DomainError, match="resolved") as caught:
            services.complaint_transition(complaint=complaint, action="resolve", by=staff, resolution=resolution)
        assert caught.value.field == "resolution"
    assert Complaint.objects.get(pk=complaint.pk).state == S.IN_PROGRESS


def test_each_state_has_its_timestamp_and_reopen_clears_resolved_and_closed(staff):
    complaint = complaint_in(S.OPEN)
    complaint = services.complaint_transition(complaint=complaint, action="start", by=staff)
    assert complaint.started_at and complaint.assignee == staff, "whoever starts an unassigned complaint takes it"
    complaint = services.complaint_transition(complaint=complaint, action="resolve", by=staff, resolution="Refunded 30 CNY")
    assert complaint.resolved_at
    complaint = services.complaint_transition(complaint=complaint, action="close", by=staff)
    assert complaint.closed_at
    complaint = services.complaint_transition(complaint=complaint, action="reopen", by=staff, note="Customer called again")
    assert complaint.reopened_at and complaint.resolved_at is None and complaint.closed_at is None


def test_user_without_change_permission_cannot_move_a_complaint(make_user):
    reviewer = make_user("reviewer")
    complaint = complaint_in(S.OPEN)
    with pytest.raises(DomainError, match="not allowed"):
        services.complaint_transition(complaint=complaint, action="start", by=reviewer)


def test_unknown_action_is_refused(staff):
    with pytest.raises(DomainError):
        services.complaint_transition(complaint=complaint_in(S.OPEN), action="delete", by=staff)


def test_state_cannot_be_set_directly():
    complaint = complaint_in(S.OPEN)
    with pytest.raises(AttributeError):
        complaint.state = S.CLOSED


def test_complaint_about_another_customers_order_is_refused(staff):
    customer, other = CustomerFactory(), CustomerFactory()
    order = make_order(customer=other, user=staff)
    with pytest.raises(DomainError, match="another customer"):
        services.complaint_create(customer=customer, data={"order": order, "subject": "x", "description": "y"}, by=staff)
    assert not Complaint.objects.exists()


def test_open_complaint_gets_a_number_and_a_timeline_row(staff):
    customer = CustomerFactory()
    complaint = services.complaint_create(
        customer=customer, data={"category": "damaged", "subject": "外箱破损", "description": "两箱外包装破损"}, by=staff
    )
    assert re.fullmatch(rf"CP-{timezone.localdate().year}-\d{{6}}", complaint.number) and complaint.state == S.OPEN
    assert customer.events.get().kind == CustomerEvent.Kind.COMPLAINT_OPENED


def test_closed_complaint_cannot_be_edited(staff):
    complaint = complaint_in(S.CLOSED)
    with pytest.raises(DomainError, match="Reopen"):
        services.complaint_update(complaint=complaint, data={"subject": "changed"}, by=staff)


# --- pages ----------------------------------------------------------------------------------------


def test_salesperson_opens_a_complaint_about_an_order_of_the_customer(client_as):
    client = client_as("sales")
    customer = CustomerFactory()
    order = make_order(customer=customer, user=client.user)
    response = client.post(
        reverse("customers:complaint_create", args=[customer.pk]),
        with_token(
            {
                "order": order.pk,
                "category": "quality",
                "subject": "保温杯漏水",
                "description": "3 只漏水",
                "assignee": client.user.pk,
            }
        ),
    )
    complaint = Complaint.objects.get()
    assert response.status_code == 302 and response.url == complaint.get_absolute_url()
    assert complaint.order == order and complaint.created_by == client.user


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("order", "abc", "Choose one of this customer's orders"),
        ("category", "alien", "Select a valid choice"),
        ("subject", " ", "This field is required"),
        ("description", "", "This field is required"),
        ("assignee", "999999", "Select a valid choice"),
    ],
)
def test_garbage_in_complaint_form_gives_errors(client_as, field, value, message):
    customer = CustomerFactory()
    data = {"order": "", "category": "quality", "subject": "s", "description": "d", "assignee": "", field: value}
    response = client_as("sales").post(reverse("customers:complaint_create", args=[customer.pk]), with_token(data))
    assert response.status_code == 400
    assert message in " ".join(response.context["form"].errors[field])
    assert not Complaint.objects.exists()


def test_order_of_another_customer_is_not_offered_and_refused(client_as):
    client = client_as("sales")
    customer, other = CustomerFactory(), CustomerFactory()
    foreign = make_order(customer=other, user=client.user)
    response = client.post(
        reverse("customers:complaint_create", args=[customer.pk]),
        with_token({"order": foreign.pk, "category": "quality", "subject": "s", "description": "d"}),
    )
    assert response.status_code == 400 and not Complaint.objects.exists()


def test_resolve_through_the_page_without_resolution_shows_an_error(client_as):
    client = client_as("sales")
    complaint = complaint_in(S.IN_PROGRESS)
    url = reverse("customers:complaint_transition", args=[complaint.pk])
    response = client.post(url, {"action": "resolve", "resolution": ""})
    assert response.status_code == 400 and "Write down how the complaint was resolved" in response.content.decode()
    response = client.post(url, {"action": "resolve", "resolution": "退款 30 元"})
    assert response.status_code == 302
    assert Complaint.objects.get(pk=complaint.pk).state == S.RESOLVED


def test_refused_transition_through_the_page_is_a_message_not_a_500(client_as):
    complaint = complaint_in(S.OPEN)
    response = client_as("sales").post(reverse("customers:complaint_transition", args=[complaint.pk]), {"action": "close"})
    assert response.status_code == 400 and "cannot do" in response.content.decode()
    response = client_as("sales").post(reverse("customers:complaint_transition", args=[complaint.pk]), {"action": "explode"})
    assert response.status_code == 400


def test_detail_offers_only_the_allowed_next_steps(client_as):
    complaint = complaint_in(S.RESOLVED)
    response = client_as("sales").get(complaint.get_absolute_url())
    assert [a["action"] for a in response.context["actions"]] == ["close", "reopen"]
    assert client_as("reviewer").get(complaint.get_absolute_url()).context["actions"] == []


@pytest.mark.parametrize(
    "role, url_name, status",
    [
        ("warehouse", "customers:complaint_list", 403),
        ("finance", "customers:complaint_list", 403),
        ("reviewer", "customers:complaint_detail", 200),
        ("reviewer", "customers:complaint_edit", 403),
        ("reviewer", "customers:complaint_transition", 403),
        ("reviewer", "customers:complaint_create", 403),
        ("warehouse", "customers:complaint_detail", 403),
        ("sales", "customers:complaint_edit", 200),
        ("manager", "customers:complaint_create", 200),
    ],
)
def test_complaint_permissions_per_role(client_as, role, url_name, status):
    complaint = complaint_in(S.OPEN)
    args = {"customers:complaint_list": [], "customers:complaint_create": [complaint.customer_id]}.get(url_name, [complaint.pk])
    client = client_as(role)
    url = reverse(url_name, args=args)
    response = client.post(url, {"action": "start"}) if url_name.endswith("transition") else client.get(url)
    assert response.status_code == status
    assert Complaint.objects.get(pk=complaint.pk).state == S.OPEN


def test_complaint_list_filters_assigned_to_me_state_and_category(client_as, make_user):
    client = client_as("sales")
    colleague = make_user("sales")
    mine = complaint_in(S.IN_PROGRESS, assignee=client.user, category="late")
    complaint_in(S.IN_PROGRESS, assignee=colleague, category="late")
    complaint_in(S.CLOSED, assignee=client.user, category="late")
    complaint_in(S.OPEN, assignee=client.user, category="billing")
    response = client.get(
        reverse("customers:complaint_list"), {"mine": "on", "state": ["open", "in_progress"], "category": "late"}
    )
    assert list(response.context["page_obj"]) == [mine]


def test_complaint_list_for_one_customer(client_as):
    wanted = complaint_in(S.OPEN)
    complaint_in(S.OPEN)
    response = client_as("reviewer").get(reverse("customers:complaint_list"), {"customer": wanted.customer_id})
    assert list(response.context["page_obj"]) == [wanted]
    assert response.context["customer"] == wanted.customer


def test_pick_customer_for_a_new_complaint_by_name(client_as):
    customer = CustomerFactory(name="深圳南山电子", alt_name="Shenzhen Nanshan Electronics")
    body = client_as("sales").get(reverse("customers:complaint_pick_customer"), {"q": "nanshan"}).content.decode()
    assert reverse("customers:complaint_create", args=[customer.pk]) in body


def test_home_queue_lists_complaints_assigned_to_the_salesperson(make_user):
    seller = make_user("sales")
    open_one = complaint_in(S.OPEN, assignee=seller)
    complaint_in(S.CLOSED, assignee=seller)
    complaint_in(S.OPEN)
    queues = home_queues(seller)
    assert [q.title for q in queues] == ["Complaints assigned to me"]
    assert queues[0].items == [open_one] and queues[0].count == 1 and queues[0].role == "sales"


def test_manager_also_sees_unassigned_complaints(make_user):
    manager = make_user("manager")
    unassigned = complaint_in(S.IN_PROGRESS)
    queues = {q.title: q for q in home_queues(manager)}
    assert queues["Unassigned complaints"].items == [unassigned]
    assert all(q.role == "manager" for q in queues.values())


def test_roles_without_complaints_get_no_complaint_queue(make_user):
    assert home_queues(make_user("warehouse")) == []
    assert home_queues(make_user("reviewer")) == []


def test_home_page_shows_the_complaint_queue(client_as):
    client = client_as("sales")
    complaint = complaint_in(S.OPEN, assignee=client.user)
    body = client.get(reverse("home")).content.decode()
    assert "Complaints assigned to me" in body and complaint.number in body


def test_each_transition_sets_its_own_timestamp_on_the_model():
    complaint = complaint_in(S.OPEN)
    complaint.start()
    assert complaint.started_at is not None
    complaint.resolution = "已退款"
    complaint.resolve()
    complaint.close()
    assert complaint.resolved_at and complaint.closed_at
    complaint.reopen()
    assert complaint.reopened_at and complaint.resolved_at is None and complaint.closed_at is None


def test_in_progress_complaint_offers_resolve_with_its_form_and_closed_one_no_edit(client_as):
    client = client_as("sales")
    working = complaint_in(S.IN_PROGRESS)
    assert [a["action"] for a in client.get(working.get_absolute_url()).context["actions"]] == ["resolve"]
    closed = complaint_in(S.CLOSED)
    body = client.get(closed.get_absolute_url()).content.decode()
    assert reverse("customers:complaint_edit", args=[closed.pk]) not in body
    assert reverse("customers:complaint_edit", args=[working.pk]) in client.get(working.get_absolute_url()).content.decode()


def test_complaint_steps_show_on_both_timelines_with_who_and_the_note(client_as):
    client = client_as("sales", first_name="Na", last_name="Li")
    complaint = complaint_in(S.OPEN)
    response = client.post(
        reverse("customers:complaint_transition", args=[complaint.pk]), {"action": "start", "note": "已电话联系客户"}
    )
    assert response.status_code == 302
    for url in (complaint.get_absolute_url(), complaint.customer.get_absolute_url()):
        body = client.get(url).content.decode()
        assert "已电话联系客户" in body and "Na Li" in body and "Open → In progress" in body
