"""Services hold the rules. Views and CLI commands call them; they never render or parse requests."""


class ServiceError(Exception):
    """A rule refused an action; the message is shown to the person who asked."""
