"""TensorFlow's C++ start-up notices kept off the console, unless the user asked for them.

TensorFlow 2.21 logs through absl before it reads its own log level, so importing it prints
"All log messages before absl::InitializeLog() …", the oneDNN notice ("oneDNN custom
operations are on …", even with `TF_CPP_MIN_LOG_LEVEL=3`: only `TF_ENABLE_ONEDNN_OPTS` set to
0 silences it) and, at the first op, the cpu-feature line ("This TensorFlow binary is optimized
…"). None of it is actionable for a user of the platform. oneDNN's custom ops bought nothing
measurable here (a Keras embedding model: 4.12 s with them off, 4.05 s on, 3 epochs on 2
cores), so the platform turns them off rather than hide stderr.

The variables only work when set before `import tensorflow`, in the process and in every child
it starts: the CLI, the demo and the code location (`ml_platform/definitions.py`, which
`dagster dev`'s run and step subprocesses import) call `quiet_tensorflow()` first thing, and
children inherit `os.environ`. A value the user set wins.
"""

import logging
import os

QUIET_ENVIRONMENT = {"TF_CPP_MIN_LOG_LEVEL": "2", "TF_ENABLE_ONEDNN_OPTS": "0"}


def quiet_tensorflow() -> None:
    """Set the quiet defaults the user has not set; Python-side absl warnings go to errors only
    (Keras' "compiled metrics have yet to be built" on every model load, for instance)."""
    for name, value in QUIET_ENVIRONMENT.items():
        os.environ.setdefault(name, value)
    logging.getLogger("absl").setLevel(logging.ERROR)
