"""The invoice and credit note PDFs: rendered once after issue, stored with their SHA-256, never
rendered again (the stored file is what was sent)."""

from __future__ import annotations

import hashlib

from django.core.files.base import ContentFile
from django.db import transaction

from billing.amount_words import amount_in_capitals
from billing.models import CreditNote, Invoice
from config.documents import render_pdf

TEMPLATE = "documents/invoice.html"


def _row(line, *, sign: str = "") -> dict:
    product = getattr(line, "product", None) or getattr(getattr(line, "invoice_line", None), "product", None)
    source = getattr(line, "invoice_line", line)
    return {
        "description": line.description,
        "tax_classification_code": source.tax_classification_code,
        "product": product,
        "unit": source.unit,
        "quantity": f"{sign}{line.quantity}" if line.quantity else "",
        "unit_price": source.unit_price.normalize() if line.quantity else "",
        "net": f"{sign}{line.net}",
        "tax_percent": (line.tax_rate * 100).normalize(),
        "tax": f"{sign}{line.tax}",
    }


def invoice_context(invoice: Invoice) -> dict:
    lines = list(invoice.lines.select_related("product").order_by("position", "pk"))
    return {
        "document": invoice,
        "invoice": invoice,
        "rows": [_row(line) for line in lines],
        "sign": "",
        "total_in_words": amount_in_capitals(invoice.total_gross),
        "is_credit_note": False,
    }


def credit_note_context(credit_note: CreditNote) -> dict:
    lines = list(credit_note.lines.select_related("invoice_line__product").order_by("position", "pk"))
    return {
        "document": credit_note,
        "invoice": credit_note.invoice,
        "rows": [_row(line, sign="-") for line in lines],
        "sign": "-",
        "total_in_words": amount_in_capitals(-credit_note.total_gross),
        "is_credit_note": True,
    }


def _store(document: Invoice | CreditNote, context: dict, language: str) -> Invoice | CreditNote:
    """Render and store the PDF of an issued document once (under its row lock); later calls return the stored one."""
    model = type(document)
    with transaction.atomic():
        locked = model.objects.select_for_update(of=("self",)).get(pk=document.pk)
        if locked.pdf:
            return locked
        pdf = render_pdf(TEMPLATE, context, language=language)
        digest = hashlib.sha256(pdf).hexdigest()
        locked.pdf.save(f"{locked.number}.pdf", ContentFile(pdf), save=False)
        # Only the set-once columns: the database refuses any other change to an issued document.
        model.objects.filter(pk=locked.pk).update(pdf=locked.pdf.name, pdf_sha256=digest)
        locked.pdf_sha256 = digest
        return locked


def invoice_pdf_store(*, invoice: Invoice) -> Invoice:
    """The issued invoice's stored PDF (rendered in the customer's language the first time)."""
    invoice = Invoice.objects.select_related("customer").get(pk=invoice.pk)
    if invoice.pdf or invoice.status != "issued":
        return invoice
    return _store(invoice, invoice_context(invoice), invoice.customer.language)


def credit_note_pdf_store(*, credit_note: CreditNote) -> CreditNote:
    """The issued credit note's stored PDF (rendered in the customer's language the first time)."""
    credit_note = CreditNote.objects.select_related("customer", "invoice").get(pk=credit_note.pk)
    if credit_note.pdf or credit_note.status != "issued":
        return credit_note
    return _store(credit_note, credit_note_context(credit_note), credit_note.customer.language)


def pdf_is_intact(document: Invoice | CreditNote) -> bool:
    """Does the stored file still hash to the SHA-256 recorded when it was stored?"""
    if not document.pdf:
        return False
    with document.pdf.open("rb") as stored:
        return hashlib.sha256(stored.read()).hexdigest() == document.pdf_sha256
