import pandas as pd
import pytest

from ml_platform.core.errors import InvalidInputError
from ml_platform.entity_matching import blocking

from .records import COLUMNS, SOURCES, TARGETS, TRUTH


def pairs_for(sources, targets, rules=None, **kw):
    rules = rules or blocking.rules_from_schema(COLUMNS)
    pairs, stats = blocking.candidate_pairs(
        blocking.block_keys(sources, rules), blocking.block_keys(targets, rules), rules, **kw
    )
    return pairs, stats


def test_every_true_pair_survives_typos_swaps_and_missing_values():
    pairs, _ = pairs_for(SOURCES, TARGETS)
    assert blocking.pair_completeness(pairs, TRUTH) == 1.0


def test_pairs_are_unique_even_when_several_keys_agree():
    pairs, stats = pairs_for(SOURCES, TARGETS)
    assert not pairs.duplicated().any()
    assert sum(stats.pairs_per_rule.values()) > stats.pairs


def test_swapped_names_share_the_order_free_phonetic_key():
    rule = next(r for r in blocking.rules_from_schema(COLUMNS) if r.name == "names_phonetic")
    keys = blocking.block_keys(pd.concat([SOURCES, TARGETS]), [rule]).set_index("id")["key"]
    assert keys["s2"] == keys["t2"]


def test_a_block_larger_than_the_cap_is_skipped_and_counted():
    crowd = pd.concat([TARGETS.assign(id=[f"t{i}{j}" for j in range(5)]) for i in range(6)])
    pairs, stats = pairs_for(SOURCES, crowd, max_block_pairs=3)
    assert stats.skipped_blocks["state_exact"] > 0
    assert not pairs.empty


def test_sorted_neighbourhood_pairs_only_across_the_two_sets():
    rule = blocking.BlockingRule(
        "sn", ("surname",), ("clean",), method="sorted_neighbourhood", window=3
    )
    pairs, _ = pairs_for(SOURCES, TARGETS, rules=[rule])
    assert pairs["source_id"].str.startswith("s").all()
    assert pairs["target_id"].str.startswith("t").all()


def test_configured_rules_replace_the_defaults():
    rules = blocking.rules_from_schema(COLUMNS, [{"columns": ["soc_sec_id"], "name": "ssn"}])
    assert [r.name for r in rules] == ["ssn"]
    pairs, _ = pairs_for(SOURCES, TARGETS, rules=rules)
    assert set(map(tuple, pairs.to_numpy())) == {("s1", "t1"), ("s2", "t2"), ("s3", "t4")}


def test_a_rule_naming_an_unknown_column_is_refused_with_its_name():
    with pytest.raises(InvalidInputError, match="blocking rule 1.*'nickname'"):
        blocking.rules_from_schema(COLUMNS, [{"columns": ["nickname"]}])


def test_reduction_ratio_counts_the_avoided_comparisons():
    assert blocking.reduction_ratio(10, 10, 100) == pytest.approx(0.99)
