"""Views: thin handlers that parse, call `dialer`, and render or answer JSON."""
