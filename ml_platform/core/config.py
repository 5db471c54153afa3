"""`ConfigModel`: the settings of a product's pure logic, written once.

A product's pure logic takes typed, validated settings (how FastText trains, how skip-gram pairs
are made) and must not import Dagster; a team changes those same settings from the Dagster
launchpad or `definitions.py`. Declaring them twice — a dataclass for the logic, then the same
fields again on the `dg.ConfigurableResource` and a method copying one into the other — lets the
two drift apart (a default changed on one side only). Instead the resource inherits the
`ConfigModel`s of its logic (both are pydantic models, so their fields become the resource's
config keys, defaults and validation included) and hands the logic `Model.of(settings)`.
"""

from dataclasses import replace
from typing import Any, Self, TypeVar

import pydantic

TrainingConfig = TypeVar("TrainingConfig")


class ConfigModel(pydantic.BaseModel):
    """Frozen and strict like the frozen dataclasses it replaces: an unknown name is an error,
    not a silently ignored typo."""

    model_config = pydantic.ConfigDict(frozen=True, extra="forbid")

    @classmethod
    def of(cls, settings: pydantic.BaseModel) -> Self:
        """This model's part of `settings` (a resource that inherits it), without the rest, so a
        stored model pickles its own settings and not the resource."""
        return cls.model_validate(settings.model_dump(include=set(cls.model_fields)))

    def __setstate__(self, state: dict[str, Any]) -> None:
        """Models stored while these configs were frozen dataclasses pickled them as their bare
        fields; validated as fields, such models still load (or fail loudly) instead of coming
        back with no settings at all."""
        if "__dict__" not in state:
            state = type(self).model_validate(state).__getstate__()
        super().__setstate__(state)


def with_epochs_capped(config: TrainingConfig, max_epochs: int | None) -> TrainingConfig:
    """`config` (a dataclass with `epochs`) training at most `max_epochs` epochs; None leaves it
    as tuned. How a resource's `max_epochs` shortens a training for tests and quick looks
    without restating the tuned epochs."""
    if max_epochs is None:
        return config
    return replace(config, epochs=min(config.epochs, max_epochs))
