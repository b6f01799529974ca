"""Use cases on a database session: the only place where queries live."""
