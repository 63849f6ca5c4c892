"""The call log: one truthful row per dial attempt (`attempt.Attempt`) and the journal that writes it (`journal`)."""
