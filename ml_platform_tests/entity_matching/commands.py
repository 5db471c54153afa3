"""What a person does with the em commands: write CSV files, land them, run a batch."""

import json
import uuid

import pandas as pd

from ml_platform.cli import main


def write(tmp_path, name: str, frame: pd.DataFrame) -> str:
    path = tmp_path / name
    frame.to_csv(path, index=False)
    return str(path)


def run_batch(capsys) -> dict:
    assert main(["em", "run-batch"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1, lines
    return json.loads(lines[0])


def land(tmp_path, capsys, sources: pd.DataFrame, targets: pd.DataFrame) -> dict:
    name = uuid.uuid4().hex[:6]
    code = main(
        [
            "em",
            "land",
            "--sources",
            write(tmp_path, f"sources_{name}.csv", sources),
            "--targets",
            write(tmp_path, f"targets_{name}.csv", targets),
        ]
    )
    assert code == 0
    return json.loads(capsys.readouterr().out)
