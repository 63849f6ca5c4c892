"""Storage: the engine and sessions (`database`), the declarative base, column types and the Alembic migrations."""
