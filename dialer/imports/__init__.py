"""Imports: CSV files read cell by cell, mapped to columns, planned and written all or nothing (`importer`)."""
