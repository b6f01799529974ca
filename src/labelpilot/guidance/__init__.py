"""The next best action for a person, and nudges away from slow paths. Pure code on the domain model."""
