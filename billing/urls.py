from __future__ import annotations

from django.urls import include, path

from billing.bank import urls as bank_urls
from billing.credit_notes import views as credit_note_views
from billing.invoices import views as invoice_views

app_name = "billing"

urlpatterns = [
    path("invoices/", invoice_views.invoice_list, name="invoice_list"),
    path("invoices/export/", invoice_views.invoice_export, name="invoice_export"),
    path("to-invoice/", invoice_views.to_invoice, name="to_invoice"),
    path("orders/<int:order_id>/invoice/", invoice_views.invoice_create, name="invoice_create"),
    path("invoices/<int:pk>/", invoice_views.invoice_detail_view, name="invoice_detail"),
    path("invoices/<int:pk>/edit/", invoice_views.invoice_update, name="invoice_update"),
    path("invoices/<int:pk>/issue/", invoice_views.invoice_issue, name="invoice_issue"),
    path("invoices/<int:pk>/discard/", invoice_views.invoice_discard, name="invoice_discard"),
    path("invoices/<int:pk>/fapiao/", invoice_views.invoice_fapiao, name="invoice_fapiao"),
    path("invoices/<int:pk>/pdf/", invoice_views.invoice_pdf, name="invoice_pdf"),
    path("invoices/<int:invoice_id>/credit/", credit_note_views.creditnote_create, name="creditnote_create"),
    path("credit-notes/", credit_note_views.creditnote_list, name="creditnote_list"),
    path("credit-notes/<int:pk>/", credit_note_views.creditnote_detail, name="creditnote_detail"),
    path("credit-notes/<int:pk>/red-letter/", credit_note_views.creditnote_red_letter, name="creditnote_red_letter"),
    path("credit-notes/<int:pk>/issue/", credit_note_views.creditnote_issue, name="creditnote_issue"),
    path("credit-notes/<int:pk>/discard/", credit_note_views.creditnote_discard, name="creditnote_discard"),
    path("credit-notes/<int:pk>/pdf/", credit_note_views.creditnote_pdf, name="creditnote_pdf"),
]
urlpatterns += [
    path("", include("billing.statements.urls")),
    path("", include("billing.dunning.urls")),
]
urlpatterns += bank_urls.urlpatterns  # bank statements and reconciliation
