"""Case-insensitive substring search with LIKE, safe for user text."""


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def contains(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere."""
    return f"%{escape_like(text)}%"
