"""The one error the pricing loader raises, pointing at a file, an entry and a field."""

from __future__ import annotations


class PricingError(ValueError):
    """A price table or override file that cannot be used.

    ``file`` is the file as displayed (``pricing/us-east-1/lambda.yaml``), ``entry`` the
    entry or free-tier id (or None), ``field`` a JSON-pointer-like path inside it such as
    ``tiers/1/up_to`` (or None), ``detail`` the problem alone. ``str(error)`` joins them:
    ``pricing/us-east-1/lambda.yaml: entry 'lambda.requests': field 'tiers/0/usd': -0.2 is
    less than the minimum of 0``.
    """

    def __init__(
        self, file: str, detail: str, *, entry: str | None = None, field: str | None = None
    ):
        self.file = file
        self.entry = entry
        self.field = field
        self.detail = detail
        super().__init__(self._message())

    def _message(self) -> str:
        parts = [self.file]
        if self.entry is not None:
            parts.append(f"entry {self.entry!r}")
        if self.field is not None:
            parts.append(f"field {self.field!r}")
        parts.append(self.detail)
        return ": ".join(parts)

    def __reduce__(self):  # keep pickling (multiprocessing, pytest-xdist) working
        return (_rebuild, (self.file, self.detail, self.entry, self.field))


def _rebuild(file: str, detail: str, entry: str | None, field: str | None) -> PricingError:
    return PricingError(file, detail, entry=entry, field=field)
