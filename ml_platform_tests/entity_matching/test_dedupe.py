"""Dedupe mode end to end on generated persons, and its self-join blocking."""

import pandas as pd
import pytest

from ml_platform import cli
from ml_platform.demo_data.persons import generate_dedupe_records
from ml_platform.entity_matching import blocking, clustering, dedupe
from ml_platform.entity_matching.schema import load_schema


@pytest.fixture(scope="module")
def people():
    return generate_dedupe_records(600, seed=7)


@pytest.fixture(scope="module")
def result(people):
    return dedupe.dedupe(people.records, load_schema())


def true_pairs(entity: pd.Series) -> pd.DataFrame:
    frame = entity.rename("entity").rename_axis("id").reset_index()
    joined = frame.merge(frame, on="entity")
    joined = joined[joined["id_x"] < joined["id_y"]]
    return joined.rename(columns={"id_x": "source_id", "id_y": "target_id"})[
        ["source_id", "target_id"]
    ]


def test_generated_dedupe_table_has_duplicates_and_households(people):
    sizes = people.entity.value_counts()
    assert (sizes > 1).sum() > 200 and sizes.max() <= 6
    assert people.records["id"].is_unique
    assert people.records["surname"].duplicated().sum() > 100  # families share surnames


def test_self_join_has_no_self_or_repeated_pairs_and_keeps_the_true_pairs(people, result):
    pairs = result.scores[["source_id", "target_id"]]
    assert (pairs["source_id"] < pairs["target_id"]).all()
    assert not pairs.duplicated().any()
    truth = true_pairs(people.entity)
    assert blocking.pair_completeness(pairs.astype(str), truth.astype(str)) > 0.98


def test_every_record_is_clustered_and_duplicates_are_found(people, result):
    assert set(result.clusters["record_id"]) == set(people.records["id"])
    quality = clustering.pairwise_quality(result.clusters, people.entity)
    assert quality["precision"] > 0.95 and quality["recall"] > 0.9
    assert set(result.seconds) == {"blocking", "features", "training", "scoring", "clustering"}


def test_an_oversized_block_is_paired_by_neighbours_not_skipped():
    # 60 records share one key: 1,770 pairs, over a cap of 100
    records = pd.DataFrame(
        {"id": [f"r{i:03d}" for i in range(60)], "surname": "lee", "given_name": None}
    )
    records.loc[:, "given_name"] = [f"name{i // 2:02d}" for i in range(60)]
    rule = blocking.BlockingRule("surname", ("surname",), ("clean",))
    order = pd.Series(records["given_name"].to_numpy(), index=records["id"])
    pairs, stats = blocking.self_pairs(
        blocking.block_keys(records, [rule]), [rule], order, max_block_pairs=100, window=3
    )
    assert stats.windowed_blocks["surname"] == 1
    assert len(pairs) < 120  # linear in the block, not 1,770
    found = set(zip(pairs["source_id"], pairs["target_id"]))
    # records with the same given name sort next to each other and meet
    assert all((f"r{2 * k:03d}", f"r{2 * k + 1:03d}") in found for k in range(30))


def test_dedupe_command_writes_a_cluster_for_every_record(tmp_path, people):
    records = tmp_path / "records.csv"
    people.records.to_csv(records, index=False)
    output = tmp_path / "out" / "clusters.csv"
    assert cli.main(["em", "dedupe", "--records", str(records), "--output", str(output)]) == 0
    clusters = pd.read_csv(output, dtype=str)
    assert list(clusters.columns) == ["record_id", "cluster_id", "cluster_confidence"]
    assert len(clusters) == len(people.records)
    assert clusters["cluster_id"].isin(clusters["record_id"]).all()


def test_dedupe_feedback_naming_an_unknown_record_is_rejected(tmp_path, people):
    records = tmp_path / "records.csv"
    people.records.to_csv(records, index=False)
    feedback = tmp_path / "feedback.csv"
    feedback.write_text("source_id,target_id,label\nr0000001,nobody,1\n")
    code = cli.main(
        ["em", "dedupe", "--records", str(records), "--feedback", str(feedback),
         "--output", str(tmp_path / "c.csv")]
    )  # fmt: skip
    assert code != 0


def test_a_too_common_word_of_a_tokens_rule_is_skipped_in_dedupe():
    records = pd.DataFrame(
        {
            "id": [f"r{i:03d}" for i in range(40)],
            "title": [f"apparatus part{i // 2}" for i in range(40)],
        }
    )
    rule = blocking.BlockingRule("title_tokens", ("title",), ("clean",), method="tokens")
    order = pd.Series(records["title"].to_numpy(), index=records["id"])
    pairs, stats = blocking.self_pairs(
        blocking.block_keys(records, [rule]), [rule], order, max_block_pairs=100
    )
    assert stats.skipped_blocks["title_tokens"] == 1  # "apparatus": 780 pairs, no evidence
    assert len(pairs) == 20  # only the records sharing a rare word
