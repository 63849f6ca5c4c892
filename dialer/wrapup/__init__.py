"""The wrap-up of a call: the form, the pure negotiation room and the agreement it records (`service`)."""
