"""The pure core's smallest parts: time, money, phone numbers, and the heap guard; no database, no framework."""
