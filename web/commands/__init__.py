"""Subcommands of `belblok` that belong to the web layer (discovered by dialer.cli like dialer.commands)."""
