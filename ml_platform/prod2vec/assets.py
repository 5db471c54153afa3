"""The prod2vec asset graph: Instacart orders → baskets → skip-gram pairs (checked) →
hyperparameters (given, or tuned with Optuna) → Keras skip-gram → product vectors (warehouse +
Parquet export) → a similarity index (served) → top-10 similar products per product.

The tuning branch runs only when asked (`tune: true` in the hyperparameters' config, or the
`prod2vec_tuning_job`): otherwise `prod2vec_tuning_analysis` is not produced in the run and the
configured values pass straight through.
"""

from datetime import UTC, datetime

import dagster as dg
import numpy as np
import pandas as pd

from ml_platform.core import artifacts, progress, promotion
from ml_platform.core.catalog import DataCatalog
from ml_platform.core.exports import export_partition
from ml_platform.core.storage import ObjectStore
from ml_platform.prod2vec import tuning
from ml_platform.prod2vec.baskets import TEST, TRAIN, build_baskets
from ml_platform.prod2vec.evaluation import (
    TrainingData,
    gensim_figures,
    model_figures,
    model_quality,
)
from ml_platform.prod2vec.model import Prod2VecModel, fit_prod2vec
from ml_platform.prod2vec.pairs import SkipgramPairs, keep_probabilities, make_pairs
from ml_platform.prod2vec.resources import Prod2VecSettings
from ml_platform.prod2vec.similarity import (
    BOUGHT_WITH,
    COSINE,
    VECTOR_PREFIX,
    ProductIndex,
    top_neighbours,
)
from ml_platform.prod2vec.skipgram import Hyperparameters

GROUP = "prod2vec"
QUALITY_CHECK = "prod2vec_beats_baselines"
SIMILAR_K = 10


@dg.multi_asset(
    group_name=GROUP,
    outs={
        "orders": dg.AssetOut(
            kinds={"pandas"}, description="Every order: user, sequence number, day and hour."
        ),
        "order_products": dg.AssetOut(
            kinds={"pandas"}, description="The products of each order, in add-to-cart order."
        ),
        "products": dg.AssetOut(
            kinds={"pandas"}, description="The catalogue: names, aisles and departments."
        ),
    },
)
def instacart(context: dg.AssetExecutionContext, prod2vec_settings: Prod2VecSettings):
    """Instacart files (or the generator), read once and validated against each other."""
    source = prod2vec_settings.source()
    with progress.load(context.log, f"Instacart order lines from {source}") as loaded:
        dataset = prod2vec_settings.dataset()
        loaded.rows = len(dataset.order_products)
    yield dg.Output(
        dataset.orders,
        output_name="orders",
        metadata={
            "orders": len(dataset.orders),
            "users": int(dataset.orders["user_id"].nunique()),
            "source": source,
        },
    )
    yield dg.Output(
        dataset.order_products,
        output_name="order_products",
        metadata={
            "rows": len(dataset.order_products),
            "reordered_share": float(dataset.order_products["reordered"].mean()),
            "source": source,
        },
    )
    yield dg.Output(
        dataset.products,
        output_name="products",
        metadata={
            "products": len(dataset.products),
            "aisles": int(dataset.products["aisle_id"].nunique()),
            "source": source,
        },
    )


@dg.asset(group_name=GROUP, kinds={"pandas"})
def baskets(orders: pd.DataFrame, order_products: pd.DataFrame) -> dg.Output[pd.DataFrame]:
    """One basket per order; each user's last basket held out to measure the models on."""
    table = build_baskets(orders, order_products)
    sizes = table.loc[table["size"] > 0, "size"]
    return dg.Output(
        table,
        metadata={
            "train_baskets": int((table["split"] == TRAIN).sum()),
            "test_baskets": int((table["split"] == TEST).sum()),
            "empty_baskets": int((table["size"] == 0).sum()),
            "mean_size": float(sizes.mean()) if len(sizes) else 0.0,
            "median_size": float(sizes.median()) if len(sizes) else 0.0,
        },
    )


@dg.asset(group_name=GROUP, kinds={"pandas", "numpy"})
def skipgram_pairs(
    prod2vec_settings: Prod2VecSettings, baskets: pd.DataFrame, products: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """(target, context, label) product pairs from the training baskets: the model's input."""
    data = TrainingData.from_baskets(baskets, products, prod2vec_settings.seed)
    config = prod2vec_settings.pair_config()
    pairs = make_pairs(data.offsets, data.items, len(data.product_ids), config)
    ids = data.product_ids.astype(np.int32 if data.product_ids.max(initial=0) < 2**31 else np.int64)
    table = pd.DataFrame(
        {"target": ids[pairs.target], "context": ids[pairs.context], "label": pairs.label}
    )
    keep = keep_probabilities(data.purchases, config.subsample)
    return dg.Output(
        table,
        metadata={
            "pairs": len(table),
            "positive_pairs": pairs.positives,
            "positive_share": float(pairs.positives / max(len(table), 1)),
            "products": len(data.product_ids),
            "expected_kept_item_share": float(keep[data.items].mean()) if len(data.items) else 0.0,
            "config": dg.MetadataValue.json(config.model_dump()),
        },
    )


class HyperparameterConfig(dg.Config):
    """Given values, or `tune: true` to search them (the given ones are then unused)."""

    tune: bool = False
    embedding_dim: int = Hyperparameters.embedding_dim
    learning_rate: float = Hyperparameters.learning_rate
    epochs: int = Hyperparameters.epochs
    batch_size: int = Hyperparameters.batch_size
    blend_strength: float = Hyperparameters.blend_strength
    trials: int = 12
    timeout_seconds: float = 540.0
    users_share: float = 1.0  # share of users whose baskets the trials train on


@dg.multi_asset(
    group_name=GROUP,
    outs={
        "prod2vec_hyperparameters": dg.AssetOut(
            kinds={"python"}, description="Embedding size, learning rate, epochs, batch size."
        ),
        "prod2vec_tuning_analysis": dg.AssetOut(
            kinds={"optuna", "csv"},
            is_required=False,
            description="Every tuning trial (CSV export) and plots of the search; only "
            "materialized when tune is true.",
        ),
    },
    deps=["skipgram_pairs"],  # the pairs' blocking checks must pass before tuning too
)
def prod2vec_hyperparameters(
    context: dg.AssetExecutionContext,
    config: HyperparameterConfig,
    prod2vec_settings: Prod2VecSettings,
    object_store: ObjectStore,
    catalog: DataCatalog,
    baskets: pd.DataFrame,
    products: pd.DataFrame,
):
    """The hyperparameters training uses: as configured, or the best of a Bayesian search."""
    batch_size = config.batch_size
    if not config.tune:
        given = Hyperparameters(
            config.embedding_dim,
            config.learning_rate,
            config.epochs,
            batch_size,
            config.blend_strength,
        )
        context.log.info("tune is false: using the configured hyperparameters, no search")
        yield dg.Output(
            given.as_dict(),
            output_name="prod2vec_hyperparameters",
            metadata={"source": "given", **given.as_dict()},
        )
        return
    result = tuning.tune(
        baskets,
        products,
        prod2vec_settings.pair_config(),
        trials=config.trials,
        timeout_seconds=config.timeout_seconds,
        users_share=config.users_share,
        batch_size=batch_size,
        seed=prod2vec_settings.seed,
        callbacks=[progress.optuna_trial_logger(context.log, "prod2vec tuning")],
    )
    yield dg.Output(
        result.best.as_dict(),
        output_name="prod2vec_hyperparameters",
        metadata={
            "source": "tuned",
            **result.best.as_dict(),
            "validation_hr_at_10": result.best_value,
        },
    )
    version = _version()
    exported = export_partition(
        result.trials,
        "prod2vec_tuning_trials",
        "version",
        version,
        object_store=object_store,
        catalog=catalog,
    )
    states = result.trials["state"].value_counts()
    yield dg.Output(
        result.trials,
        output_name="prod2vec_tuning_analysis",
        metadata={
            "trials": len(result.trials),
            "completed": int(states.get("COMPLETE", 0)),
            "pruned": int(states.get("PRUNED", 0)),
            "search_seconds": result.seconds,
            "best_validation_hr_at_10": result.best_value,
            "csv": dg.MetadataValue.path(exported["csv"]),
            "parquet": dg.MetadataValue.path(exported["parquet"]),
            "trials_table": dg.MetadataValue.md(artifacts.markdown_table(result.trials)),
            **{
                f"plot/{name}": artifacts.figure_markdown(figure, title=name)
                for name, figure in tuning.search_plots(result.trials).items()
            },
        },
    )


@dg.asset(
    group_name=GROUP,
    kinds={"tensorflow", "keras"},
    check_specs=[
        dg.AssetCheckSpec(
            QUALITY_CHECK,
            asset="prod2vec_model",
            blocking=True,
            description="HR@10 on held-out baskets above popularity's and co-occurrence "
            "counts' (the baseline a user would otherwise pick), and the similar products "
            "served at least at popularity's.",
        )
    ],
)
def prod2vec_model(
    context: dg.AssetExecutionContext,
    prod2vec_settings: Prod2VecSettings,
    skipgram_pairs: pd.DataFrame,
    baskets: pd.DataFrame,
    products: pd.DataFrame,
    prod2vec_hyperparameters: dict,
):
    """Keras skip-gram with negative sampling on the pairs, measured beside the baselines."""
    from ml_platform.core.keras_progress import EpochLog  # imports Keras: only when training

    seed = prod2vec_settings.seed
    data = TrainingData.from_baskets(baskets, products, seed)
    pairs = SkipgramPairs(
        target=np.searchsorted(data.product_ids, skipgram_pairs["target"].to_numpy()).astype(
            np.int32
        ),
        context=np.searchsorted(data.product_ids, skipgram_pairs["context"].to_numpy()).astype(
            np.int32
        ),
        label=skipgram_pairs["label"].to_numpy(np.int8),
    )
    hp = Hyperparameters(**prod2vec_hyperparameters)
    config = prod2vec_settings.pair_config()
    model = fit_prod2vec(
        pairs,
        data.product_ids,
        data.purchases,
        config,
        hp,
        data.evidence,
        seed=seed,
        callbacks=[EpochLog(context.log, "prod2vec skip-gram")],
    )
    metrics = {
        **model_quality(data, model),
        **data.baseline_figures(),
        **model_figures(model, pairs),
    }
    if prod2vec_settings.compare_gensim:
        metrics.update(gensim_figures(data, model, pairs))
    model.similar_method = BOUGHT_WITH if metrics["similar_method"] == 1.0 else COSINE
    yield dg.Output(
        model,
        metadata={
            **artifacts.model_metadata(
                metrics=metrics,
                params={**hp.as_dict(), **config.model_dump()},
                plots={"loss": _loss_plot(model.skipgram.history)},
            ),
            "similar_method": model.similar_method,
        },
    )
    yield dg.AssetCheckResult(
        check_name=QUALITY_CHECK,
        passed=passes_quality_gate(metrics),
        metadata={
            name: metrics[name]
            for name in (
                "hr_at_10",
                "popularity_hr_at_10",
                "cooccurrence_hr_at_10",
                "similar_hr_at_10",
                "queries",
            )
        }
        | {"similar_method": model.similar_method},
    )


def passes_quality_gate(metrics: dict[str, float]) -> bool:
    """ "Bought with" above both baselines of the same run, and what /similar serves no worse
    than popularity: a model only as good as counting would not be worth its training."""
    return bool(
        metrics["hr_at_10"] > metrics["popularity_hr_at_10"]
        and metrics["hr_at_10"] > metrics["cooccurrence_hr_at_10"]
        and metrics["similar_hr_at_10"] >= metrics["popularity_hr_at_10"]
    )


@dg.asset(
    group_name=GROUP, io_manager_key="warehouse_io_manager", kinds={"pandas", "sql", "parquet"}
)
def product_vectors(
    context: dg.AssetExecutionContext,
    object_store: ObjectStore,
    catalog: DataCatalog,
    prod2vec_model: Prod2VecModel,
    products: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """One vector per product (the target embedding layer) with its name: what other models use.
    Only from a model that passed its quality gate, however this asset is launched."""
    promotion.require_promotable(context, "prod2vec_model", [QUALITY_CHECK])
    vectors = prod2vec_model.vectors
    table = (
        pd.DataFrame({"product_id": prod2vec_model.product_ids})
        .merge(
            products[["product_id", "product_name", "aisle", "department"]],
            on="product_id",
            how="left",
        )
        .fillna({"product_name": "", "aisle": "", "department": ""})
        .assign(purchases=prod2vec_model.purchases.astype(np.int64))
    )
    table = pd.concat(
        [
            table,
            pd.DataFrame(
                vectors.astype(np.float64),
                columns=[f"{VECTOR_PREFIX}{i}" for i in range(vectors.shape[1])],
            ),
        ],
        axis=1,
    )
    exported = export_partition(
        table, "product_vectors", "version", _version(), object_store=object_store, catalog=catalog
    )
    return dg.Output(
        table,
        metadata={
            "products": len(table),
            "dimensions": int(vectors.shape[1]),
            **exported,
            "preview": dg.MetadataValue.md(
                artifacts.markdown_table(table.iloc[:5, :8], max_cell_chars=30)
            ),
        },
    )


@dg.asset(group_name=GROUP, kinds={"numpy"})
def prod2vec_index(
    context: dg.AssetExecutionContext,
    prod2vec_model: Prod2VecModel,
    product_vectors: pd.DataFrame,
) -> dg.Output[ProductIndex]:
    """Similar products by the method that scored best on held-out baskets, with names: what
    is served (only from a model that passed its quality gate)."""
    promotion.require_promotable(context, "prod2vec_model", [QUALITY_CHECK])
    neighbours = None
    if prod2vec_model.similar_method == BOUGHT_WITH:
        neighbours = top_neighbours(
            BOUGHT_WITH, prod2vec_model.product_ids, prod2vec_model.bought_with_scores
        )
    index = ProductIndex(product_vectors, neighbours)
    return dg.Output(index, metadata={"products": len(index), "method": index.method})


@dg.asset(group_name=GROUP, io_manager_key="warehouse_io_manager", kinds={"pandas", "sql"})
def similar_products(
    prod2vec_index: ProductIndex, product_vectors: pd.DataFrame
) -> dg.Output[pd.DataFrame]:
    """The 10 most similar products of every product (the served method), with names, for batch
    consumers."""
    table = prod2vec_index.similar_table(SIMILAR_K)
    aisle = dict(zip(product_vectors["product_id"], product_vectors["aisle"], strict=True))
    same_aisle = table["product_id"].map(aisle) == table["neighbour_aisle"]
    best_sellers = product_vectors.nlargest(3, "purchases")["product_id"]
    preview = table.loc[table["product_id"].isin(best_sellers) & (table["rank"] <= 5)]
    return dg.Output(
        table,
        metadata={
            "rows": len(table),
            "method": prod2vec_index.method,
            "same_aisle_share": float(same_aisle.mean()) if len(table) else 0.0,
            "best_sellers": dg.MetadataValue.md(
                artifacts.markdown_table(
                    preview[["product_name", "rank", "neighbour_name", "neighbour_aisle"]]
                )
            ),
        },
    )


def _version() -> str:
    """Export partition of a materialization: UTC time, so partitions sort in training order."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")


def _loss_plot(history: dict[str, list[float]]):
    """Loss per epoch, and the running loss within epochs on the same axis."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(5.5, 3.2))
    axis = figure.subplots()
    epochs = history.get("loss", [])
    running = history.get("running_loss", [])
    if running:
        positions = np.linspace(0, len(epochs), len(running) + 1)[1:]
        axis.plot(positions, running, color="tab:gray", alpha=0.6, label="running (in epoch)")
    axis.plot(range(1, len(epochs) + 1), epochs, marker="o", label="epoch loss")
    axis.set_xlabel("epoch")
    axis.set_ylabel("binary cross-entropy")
    axis.legend()
    return figure
