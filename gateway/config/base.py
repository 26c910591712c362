"""What every configuration section is built from: the strict base struct and the positive numbers."""

from __future__ import annotations

from typing import Annotated

import msgspec

Positive = Annotated[int, msgspec.Meta(gt=0)]
PositiveFloat = Annotated[float, msgspec.Meta(gt=0)]


class Section(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A section of the file: an unknown key is an error, and every field is given by name."""
