"""A TensorFlow command's console as a user sees it: the command's own output, not TensorFlow's
C++ start-up notices (ml_platform/core/quiet_tensorflow.py), unless the user asks for them."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from ml_platform.core.quiet_tensorflow import QUIET_ENVIRONMENT
from ml_platform.demo_data.tweets import generate_tweet_stream
from ml_platform.tweets.parsing import json_lines

CLI = Path(sys.executable).with_name("ml-platform")
NOTICES = (
    "absl::InitializeLog",
    "oneDNN custom operations are on",
    "cpu_feature_guard",
    "This TensorFlow binary is optimized",
)


@pytest.fixture(scope="module")
def labelled(tmp_path_factory) -> Path:
    stream = generate_tweet_stream(300, seed=5)
    truth = stream.truth.set_index("tweet_id")["is_ai"]
    path = tmp_path_factory.mktemp("tweets") / "labelled.jsonl"
    path.write_text(
        "".join(
            json_lines(
                {**m, "label": int(truth[int(m.get("id_str") or m["data"]["id"])])}
                for m in stream.messages
            )
        )
    )
    return path


def train(labelled: Path, output: Path, **environment: str) -> subprocess.CompletedProcess:
    """`ml-platform tweets train` (imports TensorFlow and trains) in a fresh process whose
    environment has none of the TensorFlow variables but `environment`."""
    env = {k: v for k, v in os.environ.items() if k not in QUIET_ENVIRONMENT} | environment
    command = [str(CLI), "tweets", "train", "--input", str(labelled), "--output", str(output)]
    return subprocess.run(
        [*command, "--epochs", "1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_training_prints_none_of_tensorflows_start_up_notices(labelled, tmp_path):
    done = train(labelled, tmp_path / "model")

    assert done.returncode == 0, done.stderr
    assert "SavedModel version 1" in done.stdout
    assert [n for n in NOTICES if n in done.stderr] == [], done.stderr


def test_a_log_level_the_user_set_is_kept(labelled, tmp_path):
    done = train(labelled, tmp_path / "model", TF_CPP_MIN_LOG_LEVEL="0", TF_ENABLE_ONEDNN_OPTS="1")

    assert done.returncode == 0, done.stderr
    assert "cpu_feature_guard" in done.stderr and "oneDNN custom operations are on" in done.stderr
