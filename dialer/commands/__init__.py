"""Subcommands of `belblok`: each module defines `register(subparsers)` and sets `handler` defaults."""
