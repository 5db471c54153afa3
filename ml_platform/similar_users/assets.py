"""The similar-users asset graph: the four behaviour tables (validated, in the warehouse) → one
FastText model per user table → user vectors (measured against baselines) and the per-user
summaries the API shows → the index the serving app loads and hot-reloads."""

import dagster as dg
import pandas as pd

from ml_platform.core import artifacts, progress, promotion
from ml_platform.core.warehouse import Warehouse
from ml_platform.similar_users import checks, evaluation, plots
from ml_platform.similar_users.display import user_display as build_display
from ml_platform.similar_users.fasttext_models import TableModel, train_models, train_table_model
from ml_platform.similar_users.index import SimilarUsersIndex
from ml_platform.similar_users.learners import TABLES, LearnerTables
from ml_platform.similar_users.resources import SimilarUsersSettings
from ml_platform.similar_users.user_vectors import UserEmbeddings, embed_users

GROUP = "similar_users"
RANDOM_CHECK = "user_embeddings_beat_random_users"
BASELINE_CHECK = "user_embeddings_beat_profile_baselines"
VECTOR_CHECK = "every_user_has_a_vector"
_DESCRIPTIONS = {
    "course_tags": "Tags of each course: they place a course few people watched near its topic.",
    "user_assessment_scores": "Skill assessments each user took and their score (0-300).",
    "user_course_views": "Courses each user watched, per day, with the time spent.",
    "user_interests": "Tags each user follows.",
    "user_communities": "The community each generated user came from (empty for real data): "
    "only the evaluation reads it.",
}


@dg.multi_asset(
    group_name=GROUP,
    outs={
        name: dg.AssetOut(
            io_manager_key="warehouse_io_manager",
            kinds={"pandas", "sql"},
            description=description,
        )
        for name, description in _DESCRIPTIONS.items()
    },
)
def learner_tables(
    context: dg.AssetExecutionContext,
    similar_users_settings: SimilarUsersSettings,
    warehouse: Warehouse,
):
    """The four behaviour tables (and community labels when the source has them), read from
    the CSV folder, the landing tables or the generator as the settings say."""
    source = similar_users_settings.source()
    with progress.load(context.log, f"the four learner tables from {source}") as loaded:
        tables, communities = similar_users_settings.load(warehouse)
        loaded.rows = sum(len(tables.table(name)) for name in TABLES)
    for name in TABLES:
        table = tables.table(name)
        metadata = {"rows": len(table), "source": source}
        if "user_handle" in table.columns:
            metadata["users"] = int(table["user_handle"].nunique())
        yield dg.Output(table, output_name=name, metadata=metadata)
    labels = (
        communities
        if communities is not None
        else pd.DataFrame({c: pd.Series(dtype="str") for c in ("user_handle", "community")})
    )
    yield dg.Output(labels, output_name="user_communities", metadata={"rows": len(labels)})


def _model_output(model: TableModel) -> dg.Output[TableModel]:
    return dg.Output(
        model,
        metadata={
            **artifacts.model_metadata(metrics=model.summary(), params=model.params(), plots={}),
            "nearest_items": dg.MetadataValue.md(_nearest_items(model)),
        },
    )


def _nearest_items(model: TableModel, items: int = 5, neighbours: int = 5) -> str:
    """The most common items' nearest vocabulary words: a look at what the model learned."""
    import numpy as np

    vectors = model.vectors.vectors / np.maximum(
        np.linalg.norm(model.vectors.vectors, axis=1, keepdims=True), 1e-12
    )
    common = sorted(model.item_counts, key=model.item_counts.get, reverse=True)[:items]
    rows = []
    for item in common:
        scores = vectors @ vectors[model.vectors.index[item]]
        best = [model.vectors.words[i] for i in np.argsort(-scores)[1 : neighbours + 1]]
        rows.append({"item": item, "nearest": ", ".join(best)})
    return artifacts.markdown_table(pd.DataFrame(rows).set_index("item"))


@dg.asset(group_name=GROUP, kinds={"gensim"})
def assessment_fasttext(
    similar_users_settings: SimilarUsersSettings, user_assessment_scores: pd.DataFrame
) -> dg.Output[TableModel]:
    """FastText over each user's assessed skills: skills assessed together end up close."""
    return _model_output(
        train_table_model(
            "user_assessment_scores",
            user_assessment_scores,
            similar_users_settings.fasttext_config(),
        )
    )


@dg.asset(group_name=GROUP, kinds={"gensim"})
def course_view_fasttext(
    similar_users_settings: SimilarUsersSettings,
    user_course_views: pd.DataFrame,
    course_tags: pd.DataFrame,
) -> dg.Output[TableModel]:
    """FastText over each user's viewed courses and each course's tags."""
    return _model_output(
        train_table_model(
            "user_course_views",
            user_course_views,
            similar_users_settings.fasttext_config(),
            course_tags,
        )
    )


@dg.asset(group_name=GROUP, kinds={"gensim"})
def interest_fasttext(
    similar_users_settings: SimilarUsersSettings, user_interests: pd.DataFrame
) -> dg.Output[TableModel]:
    """FastText over the tags each user follows."""
    return _model_output(
        train_table_model(
            "user_interests", user_interests, similar_users_settings.fasttext_config()
        )
    )


@dg.asset(
    group_name=GROUP,
    kinds={"numpy"},
    check_specs=[
        dg.AssetCheckSpec(
            RANDOM_CHECK,
            asset="user_embeddings",
            blocking=True,
            description="Leave-out hit rate above ten random users': below it the vectors are "
            "broken, and the index keeps serving the previous ones.",
        ),
        dg.AssetCheckSpec(
            BASELINE_CHECK,
            asset="user_embeddings",
            blocking=True,
            description="Leave-out hit rate above the best of Jaccard and TF-IDF neighbours' "
            "over the raw profiles, same hidden items: below it a user is better served by "
            f"TF-IDF, and the index keeps serving the previous vectors. A warning below "
            f"{checks.MIN_GATE_USERS} leave-out users, where the difference is noise.",
        ),
        dg.AssetCheckSpec(
            VECTOR_CHECK,
            asset="user_embeddings",
            blocking=True,
            description="Every user of the tables has a vector, whichever tables they are in.",
        ),
    ],
)
def user_embeddings(
    similar_users_settings: SimilarUsersSettings,
    course_tags: pd.DataFrame,
    user_assessment_scores: pd.DataFrame,
    user_course_views: pd.DataFrame,
    user_interests: pd.DataFrame,
    user_communities: pd.DataFrame,
    assessment_fasttext: TableModel,
    course_view_fasttext: TableModel,
    interest_fasttext: TableModel,
):
    """One vector per user from the three models, measured beside random and profile baselines."""
    settings = similar_users_settings
    tables = LearnerTables(course_tags, user_assessment_scores, user_course_views, user_interests)
    models = {m.table: m for m in (assessment_fasttext, course_view_fasttext, interest_fasttext)}
    embeddings = embed_users(tables, models, settings.embedding_config())
    metrics = {**embeddings.summary()}
    metrics["fasttext_seconds"] = sum(m.train_seconds for m in models.values())
    if len(user_communities):
        metrics["community_precision_at_10"] = evaluation.community_precision(
            embeddings.handles,
            embeddings.similarity,
            user_communities,
            seed=settings.evaluation_seed,
        )
    if settings.leave_out_users > 0:

        def embed(visible: LearnerTables):
            retrained = train_models(visible, settings.fasttext_config())
            vectors = embed_users(visible, retrained, settings.embedding_config())
            return vectors.handles, vectors.similarity

        metrics |= evaluation.leave_out_evaluation(
            tables, embed, users=settings.leave_out_users, seed=settings.evaluation_seed
        )
    labels = plots.top_interests(user_interests, embeddings.handles)
    yield dg.Output(
        embeddings,
        metadata=artifacts.model_metadata(
            metrics=metrics,
            params={
                **embeddings.config.model_dump(),
                "fasttext": settings.fasttext_config().model_dump(),
            },
            plots={
                "user_vectors_by_top_interest": plots.projection_plot(embeddings.vectors, labels)
            },
        ),
    )
    yield _random_check(metrics)
    yield checks.beats_profile_baselines(BASELINE_CHECK, metrics, settings.gate_min_users)
    without = embeddings.handles[~embeddings.vectors.any(axis=1)]
    yield dg.AssetCheckResult(
        check_name=VECTOR_CHECK,
        passed=len(without) == 0,
        metadata={
            "users_without_vector": len(without),
            "sample": ", ".join(without[:10]) or "none",
        },
    )


def _random_check(metrics: dict) -> dg.AssetCheckResult:
    if "hit_rate" not in metrics:
        return dg.AssetCheckResult(
            check_name=RANDOM_CHECK, passed=True, metadata={"skipped": "leave_out_users is 0"}
        )
    return dg.AssetCheckResult(
        check_name=RANDOM_CHECK,
        passed=bool(metrics["hit_rate"] > metrics["random_hit_rate"]),
        metadata={"hit_rate": metrics["hit_rate"], "random_hit_rate": metrics["random_hit_rate"]},
    )


@dg.asset(group_name=GROUP, io_manager_key="warehouse_io_manager", kinds={"pandas", "sql"})
def user_display(
    similar_users_settings: SimilarUsersSettings,
    user_assessment_scores: pd.DataFrame,
    user_course_views: pd.DataFrame,
    user_interests: pd.DataFrame,
    course_tags: pd.DataFrame,
) -> dg.Output[pd.DataFrame]:
    """Per user, what the API shows beside them: top assessments, courses and interests."""
    tables = LearnerTables(course_tags, user_assessment_scores, user_course_views, user_interests)
    table = build_display(tables, tables.users(), similar_users_settings.display_items)
    return dg.Output(
        table,
        metadata={
            "users": len(table),
            "preview": dg.MetadataValue.md(artifacts.markdown_table(table.head(5))),
        },
    )


@dg.asset(group_name=GROUP, kinds={"numpy"})
def similar_users_index(
    context: dg.AssetExecutionContext,
    user_embeddings: UserEmbeddings,
    user_display: pd.DataFrame,
) -> dg.Output[SimilarUsersIndex]:
    """What `ml-platform serve` loads (and reloads when this is re-materialized): the query
    embedders, the user vectors in a `core.vectors.VectorIndex` and each user's summary. Only
    from embeddings that passed their blocking checks, however this asset is launched."""
    promotion.require_promotable(
        context, "user_embeddings", [RANDOM_CHECK, BASELINE_CHECK, VECTOR_CHECK]
    )
    index = SimilarUsersIndex(user_embeddings, user_display)
    return dg.Output(
        index,
        metadata={"users": index.users, "dimensions": int(index.index.vectors.shape[1])},
    )
