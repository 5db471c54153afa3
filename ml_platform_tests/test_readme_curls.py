"""Every `curl` in the README, run as written (the real curl binary, only the address changed)
against the serving app loaded with models trained on the embedded defaults' generated data:
each must answer 200, so an example that names an id the demo's data lacks fails here.

The data is what `dagster dev` trains on with nothing configured (the settings' default
generators and seeds); only training is shortened to one epoch (prod2vec's job, similar
users' FastText), and the tweet classifier (whose example names no id) is the one the tweet
tests already trained.
"""

import re
import shlex
import shutil
import subprocess
import time
from pathlib import Path

import dagster as dg
import httpx
import pytest

from ml_platform.core.catalog import DataCatalog
from ml_platform.core.storage import ObjectStore, ObjectStoreIOManager
from ml_platform.core.warehouse import Warehouse, WarehouseIOManager
from ml_platform.prod2vec import definitions as prod2vec
from ml_platform.prod2vec.resources import Prod2VecSettings
from ml_platform.serving import ServingSettings, create_app
from ml_platform.similar_users.fasttext_models import FastTextConfig
from ml_platform.similar_users.resources import SimilarUsersSettings
from ml_platform_tests.serving.test_similar_users import store_index
from ml_platform_tests.serving.test_tweet_classifier import store_classifier
from ml_platform_tests.similar_users.trained import trained as trained_similar_users
from ml_platform_tests.tweets.trained import trained as trained_tweets

README = Path(__file__).resolve().parents[1] / "README.md"
SERVING = "localhost:8000"  # the address the README's examples use for `ml-platform serve`
QUICK_PROD2VEC = {"embedding_dim": 16, "learning_rate": 0.02, "epochs": 1}
QUICK_FASTTEXT = FastTextConfig(epochs=1, min_tokens_seen=0)


def readme_curls(markdown: str) -> list[list[str]]:
    """The words of every curl command in the README's code blocks, a command continued over
    lines (an open quote, a trailing backslash) read to its end, comments dropped."""
    commands: list[list[str]] = []
    pending: str | None = None
    in_code = False
    for line in markdown.splitlines():
        if line.lstrip().startswith("```"):
            in_code = not in_code
            continue
        if not in_code or (pending is None and not line.lstrip().startswith("curl ")):
            continue
        pending = line if pending is None else f"{pending}\n{line}"
        try:
            words = shlex.split(pending.replace("\\\n", " "), comments=True)
        except ValueError:  # an open quote or a trailing backslash: it goes on on the next line
            continue
        commands.append(words)
        pending = None
    assert pending is None, f"unfinished curl command in the README: {pending}"
    return commands


def test_the_readme_parser_reads_multi_line_and_commented_commands():
    markdown = (
        "```bash\ncurl -s localhost:8000/a -d '{\"x\":\n  1}'\n# → {…}\n"
        "curl -s 'localhost:8000/b?k=1'   # a comment\ncurl localhost:8000/c \\\n  -H 'a: b'\n"
        ".venv/bin/ml-platform serve\n```\ncurl outside a code block\n"
    )
    assert readme_curls(markdown) == [
        ["curl", "-s", "localhost:8000/a", "-d", '{"x":\n  1}'],
        ["curl", "-s", "localhost:8000/b?k=1"],
        ["curl", "localhost:8000/c", "-H", "a: b"],
    ]


@pytest.fixture(scope="module")
def stored_models(tmp_path_factory) -> ObjectStore:
    """An object store holding every model the README's examples reach, trained on the data
    the embedded defaults generate."""
    folder = tmp_path_factory.mktemp("readme")
    store = ObjectStore(base_uri=str(folder / "storage"))
    warehouse = Warehouse(url=f"sqlite:///{folder / 'warehouse.db'}")
    resources = {
        "io_manager": ObjectStoreIOManager(store=store),
        "warehouse_io_manager": WarehouseIOManager(warehouse=warehouse),
        "object_store": store,
        "catalog": DataCatalog(),
    }
    defs = dg.Definitions.merge(
        prod2vec.build_definitions(Prod2VecSettings()), dg.Definitions(resources=resources)
    )
    run = defs.resolve_job_def("prod2vec_job").execute_in_process(
        run_config={"ops": {"prod2vec_hyperparameters": {"config": QUICK_PROD2VEC}}}
    )
    assert run.success
    defaults = SimilarUsersSettings()
    learners = trained_similar_users(
        defaults.generated_users, defaults.generated_seed, QUICK_FASTTEXT
    )
    store_index(store, learners.index)
    store_classifier(store, trained_tweets().result.classifier)
    return store


def test_every_curl_in_the_readme_answers_200_on_the_demos_data(stored_models, serve, tmp_path):
    curl = shutil.which("curl")
    if curl is None:
        pytest.fail("curl is not installed (apt-get install curl): the README's examples use it")
    commands = readme_curls(README.read_text())
    assert len(commands) >= 5, commands  # the parser still finds the examples
    app = create_app(ServingSettings(object_store=stored_models, reload_interval_seconds=0.05))
    base = serve(app)
    deadline = time.monotonic() + 60
    while httpx.get(f"{base}/readyz").status_code != 200:
        assert time.monotonic() < deadline, httpx.get(f"{base}/readyz").json()
        time.sleep(0.05)

    failures = []
    for words in commands:
        addressed = [re.sub(rf"^(https?://)?{re.escape(SERVING)}", base, w) for w in words]
        assert addressed != words, f"a README curl to an app this test does not start: {words}"
        body = tmp_path / "body"
        done = subprocess.run(
            [curl, *addressed[1:], "--output", str(body), "--write-out", "%{http_code}"]
            + ["--max-time", "30"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.stdout != "200":
            answer = body.read_text()[:300] if body.exists() else done.stderr
            failures.append(f"{shlex.join(words)} → {done.stdout}: {answer}")
    assert failures == []
