"""Belblok softphone: the SIP user agent in worker processes (the only importer of pjsua2)."""
