"""Real concurrent requests on one customer: addresses deleted while made the default, complaints edited
while they move through their states. Every request ends in a result or a message, never a server error."""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django.db.models import QuerySet
from django.test import Client
from django.urls import reverse

from config.errors import DomainError
from customers import services
from customers.models import Address, Complaint, Contact
from tests.concurrency import run_together

from .factories import AddressFactory, ComplaintFactory, ContactFactory, CustomerFactory

pytestmark = [
    pytest.mark.concurrency,
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL's row locks and several connections"),
]

ROUNDS = 15


def defaults(customer, kind=Address.Kind.SHIPPING) -> list[int]:
    return list(Address.objects.filter(customer=customer, kind=kind, is_default=True).values_list("pk", flat=True))


def test_deleting_an_address_while_making_it_the_default_never_fails_unexpectedly(make_user):
    clerk = make_user("sales")
    unexpected: list[BaseException] = []
    for _round in range(ROUNDS):
        customer = CustomerFactory()
        first = AddressFactory(customer=customer, is_default=True)
        second = AddressFactory(customer=customer, is_default=False)

        def delete(address=second):
            services.address_delete(address=address, by=clerk)

        def make_default(address=second):
            services.address_set_default(address=address, by=clerk)

        def edit_and_make_default(address=second):
            services.address_update(address=address, data={"city": "杭州"}, make_default=True, by=clerk)

        errors = run_together([delete, make_default, edit_and_make_default])
        unexpected += [e for e in errors if not isinstance(e, DomainError)]
        assert not Address.objects.filter(pk=second.pk).exists()
        assert defaults(customer) == [first.pk], "exactly one default remains, the address that is left"
    assert not unexpected, unexpected


def test_deleting_a_contact_while_making_it_primary_never_fails_unexpectedly(make_user):
    clerk = make_user("sales")
    unexpected: list[BaseException] = []
    for _round in range(ROUNDS):
        customer = CustomerFactory()
        first = ContactFactory(customer=customer, is_primary=True)
        second = ContactFactory(customer=customer, is_primary=False)

        def delete(contact=second):
            services.contact_delete(contact=contact, by=clerk)

        def edit_and_make_primary(contact=second):
            services.contact_update(contact=contact, data={"title": "采购经理"}, make_primary=True, by=clerk)

        errors = run_together([delete, edit_and_make_primary, edit_and_make_primary])
        unexpected += [e for e in errors if not isinstance(e, DomainError)]
        assert not Contact.objects.filter(pk=second.pk).exists()
        assert list(Contact.objects.filter(customer=customer, is_primary=True).values_list("pk", flat=True)) == [first.pk]
    assert not unexpected, unexpected


def test_the_pages_answer_with_a_message_when_the_address_is_gone(make_user):
    clerk = make_user("sales")
    statuses: list[int] = []
    for _round in range(ROUNDS):
        customer = CustomerFactory()
        AddressFactory(customer=customer, is_default=True)
        second = AddressFactory(customer=customer, is_default=False)
        urls = [
            reverse("customers:address_delete", args=[customer.pk, second.pk]),
            reverse("customers:address_set_default", args=[customer.pk, second.pk]),
        ]

        def post(url):
            def job():
                client = Client(raise_request_exception=False)
                client.force_login(clerk)
                statuses.append(client.post(url).status_code)

            return job

        assert not run_together([post(url) for url in urls])
    assert set(statuses) <= {302, 404}, statuses


def _signed_in(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _edit_job(user, complaint_pk: int, subject: str, statuses: list):
    def job():
        client = _signed_in(user)
        url = reverse("customers:complaint_edit", args=[complaint_pk])
        data = {"category": "quality", "subject": subject, "description": "d", "order": "", "assignee": ""}
        statuses.append(("edit", client.post(url, data).status_code))
        statuses.append(("page", client.get(url).status_code))

    return job


def _step_job(user, complaint_pk: int, action: str, statuses: list, **extra):
    def job():
        client = _signed_in(user)
        url = reverse("customers:complaint_transition", args=[complaint_pk])
        statuses.append((action, client.post(url, {"action": action, **extra}).status_code))

    return job


def test_a_complaint_edited_while_it_moves_through_its_states_never_gives_a_server_error(make_user):
    manager = make_user("manager")
    statuses: list[tuple[str, int]] = []
    for round_ in range(ROUNDS):
        complaint = ComplaintFactory()
        jobs = [_edit_job(manager, complaint.pk, f"漏水 {round_}-{n}", statuses) for n in range(4)]
        jobs += [
            _step_job(manager, complaint.pk, "start", statuses),
            _step_job(manager, complaint.pk, "resolve", statuses, resolution="换货"),
            _step_job(manager, complaint.pk, "close", statuses),
        ]
        assert not run_together(jobs)
        complaint.refresh_from_db()
        assert complaint.state in {s for s, _label in Complaint.State.choices}
    server_errors = [s for s in statuses if s[1] >= 500]
    assert not server_errors, server_errors


def test_reloading_in_one_thread_never_lets_another_thread_assign_the_state():
    """The switch that lets a reload write the protected state is per thread, not on the shared field."""
    complaint = ComplaintFactory()
    other = Complaint.objects.get(pk=complaint.pk)
    inside, done = threading.Event(), threading.Event()
    refused: list[bool] = []

    class PausingQuerySet(QuerySet):
        def get(self, *args, **kwargs):
            inside.set()  # the reload has begun: the other thread tries its assignment now
            done.wait(10)
            return super().get(*args, **kwargs)

    def reload():
        complaint.refresh_from_db(from_queryset=PausingQuerySet(model=Complaint))

    def assign():
        inside.wait(10)
        try:
            other.state = Complaint.State.CLOSED
        except AttributeError:
            refused.append(True)
        finally:
            done.set()

    assert not run_together([reload, assign])
    assert refused == [True]
    assert Complaint._meta.get_field("state").protected
