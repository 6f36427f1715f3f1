"""The one exception type of the printables package."""


class PrintError(Exception):
    """Raise when a sheet, card or image cannot be produced as asked; the message says why."""
