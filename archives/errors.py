"""The one root of the errors the archives package raises (as ``warcio.exceptions`` has one)."""


class ArchiveError(Exception):
    """Root of the errors raised by the archives package."""
