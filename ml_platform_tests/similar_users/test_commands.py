"""`ml-platform similar-users evaluate` as a person with four CSVs uses it."""

import json

from ml_platform.cli import main
from ml_platform.demo_data.learners import generate_learners
from ml_platform.similar_users.learners import TABLES, write_learners


def test_evaluate_prints_the_hit_rates_beside_both_baselines_as_json(tmp_path, capsys):
    # Small, so the epoch cap (not the default tokens to see) bounds the two trainings.
    data = generate_learners(150, seed=4)
    write_learners(tmp_path, data.tables)  # no community labels: as for real data

    code = main(
        ["similar-users", "evaluate", "--data-dir", str(tmp_path), "--leave-out-users", "60",
         "--json"]
    )  # fmt: skip

    assert code == 0
    figures = json.loads(capsys.readouterr().out)
    assert {"hit_rate", "random_hit_rate", "jaccard_hit_rate", "train_seconds", "users"} <= set(
        figures
    )
    assert figures["users"] == len(data.tables.users())
    assert figures["hit_rate"] > figures["random_hit_rate"]
    assert "community_precision_at_10" not in figures


def test_a_missing_table_is_an_error_naming_the_file(tmp_path, capsys):
    write_learners(tmp_path, generate_learners(30, seed=4).tables)
    (tmp_path / f"{TABLES[3]}.csv").unlink()

    assert main(["similar-users", "evaluate", "--data-dir", str(tmp_path)]) == 2
    assert "user_interests.csv: file not found" in capsys.readouterr().err


def test_bad_community_labels_stop_the_evaluation_before_any_training(tmp_path, capsys):
    write_learners(tmp_path, generate_learners(30, seed=4).tables)
    (tmp_path / "user_communities.csv").write_text("user_handle,group\n1,web\n")

    assert main(["similar-users", "evaluate", "--data-dir", str(tmp_path)]) == 2
    error = capsys.readouterr().err
    assert "user_communities.csv" in error and "['community']" in error
