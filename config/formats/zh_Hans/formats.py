"""Number formats for Simplified Chinese that finance documents use: amounts grouped by thousands with a
comma (1,234,567.89), as on invoices and bank statements. Everything else comes from Django's own zh_Hans
formats."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
