"""Bank statements booked: credits matched to debtors and invoices, the unmatched ones assigned by hand."""
