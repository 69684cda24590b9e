"""The one error an import raises for bad input: it says what is wrong and with which path."""


class ReleaseImportError(Exception):
    """The artifact cannot be imported (unknown engine, missing path, wrong engine, missing file, version)."""
