"""Calling blocks: the reserved hours an agent dials in (`block`, pure) and their stored form (`model`)."""
