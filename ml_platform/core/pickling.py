"""Pickling for models whose private attributes are derived from their public ones.

A model keeps lookup tables, precomputed products or a lazily loaded graph beside its weights
(`_`-prefixed attributes set in `__post_init__`). Stored with the weights, they would bloat the
asset and, worse, freeze their layout: a model stored by an older version would load without the
tables a newer version's code reads. Rebuilt on load, they always match the code serving them.
"""

from typing import Any


class DerivedStateRebuiltOnLoad:
    """Mixin for dataclasses: pickles the public attributes only and reruns `__post_init__`
    when unpickled."""

    def __post_init__(self) -> None:
        """Sets the derived (`_`-prefixed) attributes; subclasses override it."""

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.startswith("_")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update({k: v for k, v in state.items() if not k.startswith("_")})
        self.__post_init__()
