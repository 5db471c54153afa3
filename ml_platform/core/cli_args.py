"""Checks of command-line arguments shared by every product's commands, so that a bad option
fails at once with the option's name instead of after minutes of work or with a traceback.

No heavy imports: the commands that use these must start quickly."""

import argparse
import math
from pathlib import Path

from ml_platform.core.errors import InvalidInputError


def probability(text: str) -> float:
    """An argparse type: a number from 0 to 1 (NaN would compare false with every score)."""
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"'{text}' is not a probability from 0 to 1")
    return value


def writable_file(path: str | Path, option: str = "--output") -> Path:
    """A file the command may write, checked before any work: not a folder, not under a file,
    its folder created."""
    output = Path(path)
    if output.is_dir():
        raise InvalidInputError(
            f"{option} {output} is a folder; it needs a file name, e.g. {output / 'out.csv'}"
        )
    for parent in output.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InvalidInputError(f"{option} {output}: {parent} is a file, not a folder")
            break
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise InvalidInputError(
            f"{option} {output}: cannot create its folder ({error.strerror})"
        ) from error
    return output
