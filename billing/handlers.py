"""Outbox handlers of invoices and credit notes: run after the issuing transaction committed, safe to run twice."""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, mailers
from django.template.loader import render_to_string
from django.utils import translation

from billing.credit_notes.services import credit_note_draft_for_refund
from billing.documents import credit_note_pdf_store, invoice_pdf_store
from billing.models import CreditNote, CreditNoteEvent, CreditNoteReason, Invoice, InvoiceEvent
from config.actors import Actor
from config.documents import company_letterhead

INVOICE_TEMPLATE = "invoice_issued"
CREDIT_NOTE_TEMPLATE = "creditnote_issued"


def store_invoice_pdf(payload: dict) -> None:
    """An invoice was issued: render and store its PDF once."""
    invoice = Invoice.objects.filter(pk=payload["id"]).first()
    if invoice is not None:
        invoice_pdf_store(invoice=invoice)


def email_invoice(payload: dict) -> None:
    """An invoice was issued: e-mail its PDF to the customer, in their language, once."""
    invoice_email(invoice_id=payload["id"])


def _send(*, to: str, language: str, template: str, context: dict, attachment: tuple[str, bytes]) -> None:
    with translation.override(language):
        subject = render_to_string(f"billing/email/{template}_subject.txt", context).strip()
        message = EmailMultiAlternatives(
            subject=subject,
            body=render_to_string(f"billing/email/{template}.txt", context),
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[to],
        )
    message.attach(attachment[0], attachment[1], "application/pdf")
    mailers.default.send_messages([message])


def invoice_email(*, invoice_id: int) -> bool:
    """Send the issued invoice's stored PDF once (its timeline records it); False when there is no one to send it to."""
    invoice = Invoice.objects.select_related("customer").filter(pk=invoice_id, status="issued").first()
    if invoice is None or not invoice.customer.email:
        return False
    if invoice.events.filter(kind=InvoiceEvent.Kind.EMAIL).exists():
        return False
    invoice = invoice_pdf_store(invoice=invoice)
    with invoice.pdf.open("rb") as stored:
        pdf = stored.read()
    orders = sorted(set(invoice.lines.exclude(order=None).values_list("order__number", flat=True)))
    customer = invoice.customer
    _send(
        to=customer.email,
        language=customer.language,
        template=INVOICE_TEMPLATE,
        context={"invoice": invoice, "customer": customer, "orders": orders, "company": company_letterhead()},
        attachment=(f"{invoice.number}.pdf", pdf),
    )
    InvoiceEvent.record(invoice, kind=InvoiceEvent.Kind.EMAIL, actor=Actor.system("system"), params={"email": customer.email})
    return True


def store_credit_note_pdf(payload: dict) -> None:
    """A credit note was issued: render and store its PDF once."""
    credit_note = CreditNote.objects.filter(pk=payload["id"]).first()
    if credit_note is not None:
        credit_note_pdf_store(credit_note=credit_note)


def email_credit_note(payload: dict) -> None:
    """A credit note was issued: e-mail its PDF to the customer, in their language, once."""
    credit_note = CreditNote.objects.select_related("customer", "invoice").filter(pk=payload["id"], status="issued").first()
    if credit_note is None or not credit_note.customer.email:
        return
    if credit_note.events.filter(kind=CreditNoteEvent.Kind.EMAIL).exists():
        return
    credit_note = credit_note_pdf_store(credit_note=credit_note)
    with credit_note.pdf.open("rb") as stored:
        pdf = stored.read()
    customer = credit_note.customer
    _send(
        to=customer.email,
        language=customer.language,
        template=CREDIT_NOTE_TEMPLATE,
        context={"credit_note": credit_note, "customer": customer},
        attachment=(f"{credit_note.number}.pdf", pdf),
    )
    CreditNoteEvent.record(
        credit_note, kind=CreditNoteEvent.Kind.EMAIL, actor=Actor.system("system"), params={"email": customer.email}
    )


def _quantities(lines: list[dict], *keys: str) -> dict[int, int]:
    quantities: dict[int, int] = {}
    for line in lines:
        line_id = next((line[key] for key in keys if line.get(key) is not None), None)
        if line_id is not None:
            quantities[int(line_id)] = quantities.get(int(line_id), 0) + int(line.get("quantity") or 0)
    return quantities


def draft_credit_note_for_return(payload: dict) -> None:
    """A return was decided with a refund: draft a credit note (sales return) for its invoiced units, once."""
    credit_note_draft_for_refund(
        source="return",
        source_id=payload["return_id"],
        order_line_quantities=_quantities(payload.get("lines", []), "order_line_id", "order_line"),
        params={"return": payload.get("return_number", "")},
        reason=CreditNoteReason.SALES_RETURN,
    )


def draft_credit_note_for_delivery_exception(payload: dict) -> None:
    """A delivery exception was resolved with a refund: draft a credit note for its invoiced units, once."""
    credit_note_draft_for_refund(
        source="exception",
        source_id=payload["exception"],
        order_line_quantities=_quantities(payload.get("lines", []), "order_line", "order_line_id"),
        params={"shipment": payload.get("shipment_number", "")},
        reason=CreditNoteReason.OTHER,
    )
