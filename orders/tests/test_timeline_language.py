"""Issue 7's acceptance: the same order's timeline reads wholly in English for an English reader and
wholly in Chinese for a Chinese one, including what the system wrote; the rows store data, never
translated text (they were written here by people working in Chinese)."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.utils import translation

from config.actors import SYSTEM_NAMES
from customers.tests.factories import AddressFactory, CustomerFactory
from inventory.tests.factories import WarehouseFactory, stocked_product
from orders.entry.services import LineInput, OrderHeader, order_reopen, order_submit, order_update_draft
from orders.models import OrderEvent, OrderStatus, SalesOrder
from orders.review.services import order_approve, order_reject
from orders.tests.factories import draft_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("fast_passwords")]

CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
REJECTION = "单价太低，请与客户确认后再提交。"
# What an English reader must see (the sentences and labels of this history).
ENGLISH = [
    "Entered with 2 lines.",
    "Changed customer PO number; removed",
    "changed quantity, price or discount of",
    "Sent to review: Price below list.",
    "Reserved in SH: 3 ×",
    "Order confirmation sent to buyer@customer.example.",
    "Status change",
    "automatic checks",
    "automatic allocation",
]
# Sentences of this history whose msgids the zh-Hans catalogue has had since before issue 7.
CHINESE_SENTENCES = [
    "录入，共 2 行明细。",
    "修改了客户采购单号",
    "的数量、价格或折扣",
    "转人工审核：低于标价。",
    "在 SH 预留：3 ×",
    "订单确认邮件已发送至 buyer@customer.example。",
]
ENGLISH_FRAGMENTS = ["Entered with", "Changed", "changed", "Sent to review", "Reserved in", "Order confirmation", "Status change"]


class Timeline(HTMLParser):
    """The order page's History section: per event, its text by part (time, actor, kind, states, sentence, note)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.events: list[dict[str, str]] = []
        self._inside = False
        self._part = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        classes = (attrs.get("class") or "").split()
        if tag == "section" and attrs.get("aria-labelledby") == "timeline-title":
            self._inside = True
        if not self._inside:
            return
        if tag == "li" and "event" in classes:
            self.events.append(dict.fromkeys(["time", "actor", "kind", "states", "sentence", "note"], ""))
            self._part = "kind"
        elif tag == "time":
            self._part = "time"
        elif tag == "strong":
            self._part = "actor"
        elif tag == "span" and "status" in classes:
            self._part = "states"
        elif tag == "p" and "event-sentence" in classes:
            self._part = "sentence"
        elif tag == "p" and "event-note" in classes:
            self._part = "note"

    def handle_endtag(self, tag):
        if tag == "section":
            self._inside = False
        elif tag in ("time", "strong", "span", "p"):
            self._part = "kind"

    def handle_data(self, data):
        if self._inside and self.events and self._part:
            self.events[-1][self._part] += data


def read_timeline(client, order: SalesOrder, language: str) -> list[dict[str, str]]:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(order.get_absolute_url())
    assert response.status_code == 200
    assert f'lang="{language}"' in response.content.decode()
    parser = Timeline()
    parser.feed(response.content.decode())
    events = [{part: " ".join(text.split()) for part, text in event.items()} for event in parser.events]
    assert len(events) == order.events.count()
    return events


@pytest.fixture
def history(make_user, django_capture_on_commit_callbacks):
    """An order's life through the services, each step committed (its after-commit work run), by
    people working in Chinese: entered, edited, submitted, flagged by the checks, rejected with a
    reason, reopened, submitted, flagged again, approved, then allocated and confirmed by the system."""
    sales = make_user("sales", first_name="丽", last_name="王", email="wangli@example.com")
    reviewer = make_user("reviewer", first_name="强", last_name="李", email="liqiang@example.com")
    warehouse = WarehouseFactory(code="SH", priority=1)
    product = stocked_product(stock={warehouse: 10})
    customer = CustomerFactory(email="buyer@customer.example", language="zh-hans")
    address = AddressFactory(customer=customer, is_default=True)

    def step(action):
        with translation.override("zh-hans"), django_capture_on_commit_callbacks(execute=True):
            action()
        return SalesOrder.objects.get(pk=order.pk)

    with translation.override("zh-hans"):
        order = draft_order(
            by=sales, customer=customer, address=address, products=[product, stocked_product(stock={warehouse: 5})]
        )
    order = step(
        lambda: order_update_draft(
            order=order,
            version=order.version,
            header=OrderHeader(customer=customer, shipping_address=address, customer_po="PO-7788"),
            lines=[LineInput(product=product, quantity=3, unit_price=Decimal("80.00"))],  # 20 % below list
            by=sales,
        )
    )
    order = step(lambda: order_submit(order=order, by=sales))
    assert order.status == OrderStatus.IN_REVIEW  # the checks ran after commit, as the system
    order = step(lambda: order_reject(order=order, by=reviewer, reason=REJECTION))
    order = step(lambda: order_reopen(order=order, by=sales))
    order = step(lambda: order_submit(order=order, by=sales))
    assert order.status == OrderStatus.IN_REVIEW
    order = step(lambda: order_approve(order=order, by=reviewer))
    assert order.status == OrderStatus.ALLOCATED  # allocation followed the approval, as the system
    return {"order": order, "sales": sales, "reviewer": reviewer, "product": product, "customer": customer}


def without_data(text: str, history) -> str:
    """The text less what is data rather than language: names, codes, numbers, e-mail addresses."""
    for value in [
        history["sales"].get_full_name(),
        history["reviewer"].get_full_name(),
        history["order"].number,
        history["product"].sku,
        history["customer"].email,
        "PO-7788",
    ]:
        text = text.replace(value, " ")
    text = re.sub(r"[\w.+-]+@[\w.-]+", " ", text)
    text = re.sub(r"\b[A-Z]{1,4}-?[\dA-Z-]*\d[\dA-Z-]*\b", " ", text)  # SKUs and document codes
    text = text.replace("SH", " ")  # the warehouse's code
    return re.sub(r"[\d\s·:→×,.;:：，。；、（）()%-]+", " ", text).strip()


def test_the_history_was_written_by_people_and_by_the_system(history):
    order = history["order"]
    rows = list(order.events.values_list("kind", "actor_kind", "actor_name", "from_state", "to_state"))
    assert rows == [
        ("created", "user", "", "", ""),
        ("edited", "user", "", "", ""),
        ("transition", "user", "", "draft", "submitted"),
        ("transition", "system", "automatic_checks", "submitted", "in_review"),
        ("transition", "user", "", "in_review", "rejected"),
        ("transition", "user", "", "rejected", "draft"),
        ("transition", "user", "", "draft", "submitted"),
        ("transition", "system", "automatic_checks", "submitted", "in_review"),
        ("transition", "user", "", "in_review", "approved"),
        ("allocation", "system", "allocation", "", ""),
        ("transition", "system", "allocation", "approved", "allocated"),
        ("email", "system", "system", "", ""),
    ]


def test_an_english_reader_reads_the_whole_timeline_in_english(client, history):
    client.force_login(history["sales"])

    events = read_timeline(client, history["order"], "en")

    page = " ".join(" ".join(event.values()) for event in events)
    for expected in ENGLISH:
        assert expected in page
    for event in events:
        for part in ("actor", "kind", "states", "sentence"):
            leftover = without_data(event[part], history)
            assert not CJK.search(leftover), f"Chinese in the English timeline ({part}): {event[part]!r}"
    assert [event["note"] for event in events if event["note"]] == [REJECTION]  # what a person typed, as typed


def test_a_chinese_reader_reads_the_event_sentences_states_and_kinds_in_chinese(client, history):
    client.force_login(history["sales"])

    events = read_timeline(client, history["order"], "zh-hans")

    sentences = [event["sentence"] for event in events if event["sentence"]]
    assert len(sentences) == 6  # entered, edited, sent to review (twice), reserved, confirmation sent
    for expected in CHINESE_SENTENCES:
        assert any(expected in sentence for sentence in sentences), (expected, sentences)
    for sentence in sentences:
        assert CJK.search(sentence), sentence
        assert not any(fragment in sentence for fragment in ENGLISH_FRAGMENTS), sentence
    states = " ".join(event["states"] for event in events)
    for label in ["草稿", "已提交", "审核中", "已驳回", "已批准", "已分配"]:
        assert label in states
    assert "状态变更" in " ".join(event["kind"] for event in events)
    assert [event["note"] for event in events if event["note"]] == [REJECTION]


def test_a_chinese_reader_reads_the_whole_timeline_in_chinese_including_what_the_system_wrote(client, history):
    """Every word of every event (who, what, states, sentence) is Chinese, the system's names too;
    only data (names, codes, numbers) and what a person typed are shown as they are."""
    client.force_login(history["sales"])

    events = read_timeline(client, history["order"], "zh-hans")

    english = sorted(
        {
            f"{part}: {event[part]}"
            for event in events
            for part in ("actor", "kind", "states", "sentence")
            if LATIN_WORD.search(without_data(event[part], history))
        }
    )
    assert not english, "English on the Chinese timeline (translate these msgids):\n" + "\n".join(english)


def test_a_chinese_reader_sees_chinese_punctuation_between_and_after_the_parts_of_a_sentence(client, history):
    """A sentence assembled from parts (the edit's "changed …; added …") is punctuated in the reader's
    language too: no ASCII ";" between the parts nor "." at the end on the Chinese page."""
    client.force_login(history["sales"])

    events = read_timeline(client, history["order"], "zh-hans")

    sentences = [re.sub(r"[\w.+-]+@[\w.-]+", "", event["sentence"]) for event in events if event["sentence"]]
    english_punctuation = [sentence for sentence in sentences if ";" in sentence or sentence.endswith(".")]
    assert not english_punctuation, english_punctuation


def test_timeline_rows_store_data_never_translated_text(history):
    """The history was written with Chinese active: no row may hold Chinese (or any worded) text."""
    order = history["order"]
    for event in order.events.all():
        stored = json.dumps([event.params, event.actor_name, event.from_state, event.to_state], ensure_ascii=False)
        assert not CJK.search(stored), stored
        assert event.from_state in ("", *OrderStatus.values) and event.to_state in ("", *OrderStatus.values)
        if event.actor_kind == "system":
            assert event.actor_name in SYSTEM_NAMES
            assert event.by is None
            assert event.note == ""  # the system never writes a note: its sentence comes from params
    assert list(order.events.exclude(note="").values_list("note", flat=True)) == [REJECTION]
    created = order.events.get(kind=OrderEvent.Kind.CREATED)
    assert created.params == {"lines": 2}
    with translation.override("en"):
        assert created.sentence == "Entered with 2 lines."
    with translation.override("zh-hans"):
        assert created.sentence == "录入，共 2 行明细。"
