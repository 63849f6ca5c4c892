"""Belblok dialer: the domain, its services and the command line."""
