"""The one exception the core raises for unusable input."""

from __future__ import annotations


class InputError(Exception):
    """Input the advisor cannot use at all; names the file, document and line when known."""

    def __init__(
        self,
        message: str,
        *,
        file: str = "",
        document: int | None = None,
        line: int | None = None,
    ) -> None:
        self.message = message
        self.file = file
        self.document = document
        self.line = line
        super().__init__(self.describe())

    def describe(self) -> str:
        """Return 'file: document N, line L: message' with whatever is known."""
        where = []
        if self.file:
            where.append(self.file)
        if self.document is not None:
            where.append(f"document {self.document}")
        if self.line is not None:
            where.append(f"line {self.line}")
        return f"{', '.join(where)}: {self.message}" if where else self.message
