"""The queue: who to call next and why (`order`, pure, over `facts`), retries, claims and the database reads."""
