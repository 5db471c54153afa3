import pickle
from dataclasses import dataclass

from ml_platform.core.pickling import DerivedStateRebuiltOnLoad


@dataclass
class Scaled(DerivedStateRebuiltOnLoad):
    values: list[float]
    factor: float = 2.0

    def __post_init__(self) -> None:
        self._scaled = [v * self.factor for v in self.values]


def test_derived_attributes_are_not_stored_and_are_rebuilt_on_load():
    model = Scaled([1.0, 2.0])

    assert "_scaled" not in model.__getstate__()
    assert pickle.loads(pickle.dumps(model))._scaled == [2.0, 4.0]


def test_a_value_stored_with_derived_attributes_gets_them_rebuilt_by_the_current_code():
    # what an older version of the class stored: its own (here stale) derived attribute
    stored = Scaled([1.0, 2.0])
    state = {**stored.__dict__, "_scaled": [0.0, 0.0], "_retired": "old layout"}
    loaded = Scaled.__new__(Scaled)
    loaded.__setstate__(state)

    assert loaded._scaled == [2.0, 4.0] and not hasattr(loaded, "_retired")
