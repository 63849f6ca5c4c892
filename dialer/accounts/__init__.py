"""Accounts: users with a role and API tokens (`models`), passwords and login sessions (`users`)."""
