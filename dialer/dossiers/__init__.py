"""Dossiers: debtors, contacts, invoices, payments, complaints, promises, tasks and the reads the panel shows."""
