"""Models arrive with their issue (see README, "Status")."""
