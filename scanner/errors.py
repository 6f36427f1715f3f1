"""The one exception type of the scanner package."""


class ScanError(Exception):
    """Report input the scanner cannot use: a bad image or a bad manifest."""
