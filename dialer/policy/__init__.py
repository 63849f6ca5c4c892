"""The contact policy: pure rules per jurisdiction (`engine`), their config sections and the packaged packs."""
