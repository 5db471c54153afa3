"""A seeded generator of the four learner tables (`similar_users.learners`' shape) with
community structure.

It exists because the public data may not be redistributed: tests, demos and benchmarks need
tables of any size with the structure the real ones have — learners in communities (web, data,
cloud, security, …) with personal focus inside them and some interests outside, tags shared
across tables and communities, slug course ids built from tags (`python-beyond-basics`),
long-tailed activity and popularity, scores 0–300 — and the community each user came from, which
the real data lacks, so similarity can be measured.
"""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml_platform.core.errors import InvalidInputError
from ml_platform.similar_users.learners import LEVELS, MAX_SCORE, MIN_SCORE, LearnerTables


@dataclass(frozen=True)
class GeneratedLearners:
    """Generated tables and the community each user was drawn from (`user_handle`, `community`)."""

    tables: LearnerTables
    communities: pd.DataFrame


# Each community's core tags, most followed first. Some tags belong to two communities (python,
# statistics, terraform, kotlin, azure, linux, sql, 3d-modeling, c++, …), as they do in reality.
COMMUNITY_TAGS: dict[str, tuple[str, ...]] = {
    "web": (
        "javascript", "html5", "css", "react", "angular", "typescript", "node-js", "web-design",
        "responsive-design", "jquery", "vue-js", "sass", "webpack", "web-accessibility",
        "web-performance", "rest-api",
    ),
    "data": (
        "python", "data-analysis", "sql", "pandas", "data-visualization", "statistics", "r",
        "excel", "tableau", "power-bi", "data-wrangling", "jupyter", "etl", "big-data", "spark",
    ),
    "machine-learning": (
        "python", "machine-learning", "deep-learning", "tensorflow", "pytorch", "scikit-learn",
        "natural-language-processing", "computer-vision", "neural-networks", "statistics",
        "data-science", "keras", "reinforcement-learning", "mlops",
    ),
    "cloud": (
        "aws", "azure", "google-cloud", "cloud-architecture", "serverless", "aws-lambda",
        "amazon-s3", "amazon-ec2", "terraform", "cloud-security", "cloud-cost-management",
        "aws-certified-solutions-architect",
    ),
    "devops": (
        "docker", "kubernetes", "jenkins", "continuous-integration", "ansible", "terraform",
        "linux", "git", "monitoring", "helm", "bash", "site-reliability-engineering",
    ),
    "security": (
        "security", "penetration-testing", "ethical-hacking", "network-security", "cryptography",
        "incident-response", "malware-analysis", "owasp", "cissp", "threat-modeling",
        "digital-forensics", "cloud-security",
    ),
    "mobile": (
        "android", "ios", "swift", "kotlin", "react-native", "flutter", "xamarin",
        "mobile-ui-design", "objective-c", "mobile-testing",
    ),
    "dotnet": (
        "csharp", "dotnet", "asp-net-mvc", "entity-framework", "sql-server", "wpf", "linq",
        "visual-studio", "azure", "asp-net-core", "unit-testing",
    ),
    "java": (
        "java", "spring", "spring-boot", "hibernate", "maven", "microservices", "jvm", "kotlin",
        "junit", "design-patterns",
    ),
    "it-ops": (
        "networking", "ccna", "windows-server", "active-directory", "powershell", "vmware",
        "exchange-server", "itil", "comptia", "linux",
    ),
    "creative": (
        "photoshop", "illustrator", "after-effects", "3d-modeling", "maya", "blender",
        "ui-design", "ux-design", "sketch", "premiere-pro",
    ),
    "game-development": (
        "unity", "unreal-engine", "c++", "game-design", "3d-modeling", "shaders", "blender",
        "csharp", "game-physics",
    ),
}  # fmt: skip
# Relative community sizes (web and data are the big ones on learning platforms).
_COMMUNITY_SIZE = {
    "web": 0.17, "data": 0.13, "machine-learning": 0.09, "cloud": 0.10, "devops": 0.08,
    "security": 0.07, "mobile": 0.06, "dotnet": 0.09, "java": 0.07, "it-ops": 0.07,
    "creative": 0.04, "game-development": 0.03,
}  # fmt: skip
# Finer tags are "<core>-<facet>" (as the public data's "mvc-scaffolding"); a core tag gets a
# few of these, so tag vocabularies reach the public data's hundreds.
_FACETS = (
    "fundamentals", "testing", "security", "performance", "patterns", "tooling", "deployment",
    "debugging", "architecture", "api", "advanced", "best-practices", "automation",
)  # fmt: skip
_COURSE_SUFFIXES = {
    "Beginner": (
        "fundamentals", "getting-started", "big-picture", "first-look", "for-beginners",
        "introduction", "quick-start", "essentials",
    ),
    "Intermediate": (
        "beyond-basics", "in-practice", "best-practices", "playbook", "building-applications",
        "design-patterns", "testing", "working-with-data", "automation",
    ),
    "Advanced": (
        "advanced-techniques", "deep-dive", "performance-tuning", "in-depth", "architecture",
        "at-scale", "internals", "security-hardening",
    ),
}  # fmt: skip
_LEVEL_SHARE = (0.45, 0.38, 0.17)
_ROLES = 3  # per community
_FIRST_DAY = pd.Timestamp("2015-01-01", tz="UTC")
_SPAN_DAYS = 3 * 365


@dataclass(frozen=True)
class _Vocabulary:
    tags: list[str]
    community_weights: np.ndarray  # communities × tags: each row a distribution over tags
    assessable: np.ndarray  # tag → has an assessment (core tags only)
    topic: np.ndarray  # tag → position of its core tag (a core tag is its own topic)


@dataclass(frozen=True)
class GeneratorShape:
    """How much the generated data flatters community structure. The default is what the tests
    and the demo were written against; `HARD` is nearer real behaviour (MovieLens): a third of
    what people do lies outside their communities, a heavier head of popular courses, and
    activity spread wider (heavy users next to many light ones)."""

    outside: float = 0.06  # share of a user's taste that is site-wide popularity
    outside_uniform: float = 0.0  # of that share, how much is any tag at all (pure noise)
    popularity_exponent: float = 1.6  # Zipf exponent of course popularity (smaller: heavier)
    activity_spread: float = 1.0  # multiplies the lognormal sigma of per-user activity
    activity_cap: float = 1.0  # multiplies the most a user follows / views


HARD = GeneratorShape(
    outside=0.3,
    outside_uniform=0.5,
    popularity_exponent=1.3,
    activity_spread=1.4,
    activity_cap=3.0,
)


def generate_learners(
    n_users: int = 2_000,
    seed: int = 42,
    courses_per_user: float = 0.6,
    shape: GeneratorShape | None = None,
) -> GeneratedLearners:
    """Learners drawn from communities (see `COMMUNITY_TAGS`), as the public tables.

    Each user has a community, with probability 0.35 a second one, and a focus inside their
    community: one of its three roles (the analyst, the data engineer, … — random weights over
    its topics, a topic being a core tag with its finer tags) times a personal variation, so
    two data people need not share a tag. What they follow, view and are assessed on is drawn
    from the mixture 82 % own community (× focus), 12 % second community (or more of their
    own), 6 % site-wide popularity. Activity
    is lognormal (many light users, a few who follow a hundred tags); 12 % never viewed a course,
    4 % follow nothing and 30 % took assessments, scored 0–300 higher on their own community's
    topics. Courses are slugs of a tag and a level word, tagged with their topic and 0–3 related
    tags; popularity is long-tailed (Zipf) in every table. `courses_per_user` sets the catalogue
    size relative to the users (the public data has ~0.6 courses per user); `shape` how much of
    that structure is blurred (`HARD`: see `GeneratorShape`).
    """
    shape = shape or GeneratorShape()
    if n_users < 20:
        raise InvalidInputError(f"n_users={n_users}: generate at least 20 users")
    rng = np.random.default_rng(seed)
    names = list(COMMUNITY_TAGS)
    vocabulary = _vocabulary(rng, names)
    n_tags = len(vocabulary.tags)
    courses = _courses(rng, vocabulary, names, max(60, round(n_users * courses_per_user)))
    courses["popularity"] = (
        rng.zipf(shape.popularity_exponent, size=len(courses)).clip(max=500).astype(float)
    )

    sizes = np.array([_COMMUNITY_SIZE[c] for c in names])
    community = rng.choice(len(names), size=n_users, p=sizes / sizes.sum())
    second = np.where(
        rng.random(n_users) < 0.35, rng.choice(len(names), size=n_users, p=sizes / sizes.sum()), -1
    )
    site_popularity = vocabulary.community_weights.T @ sizes
    site_popularity /= site_popularity.sum()
    handles = np.array([str(i) for i in range(1, n_users + 1)])

    # Per user: a distribution over tags. Focus is on topics (a core tag and its finer tags
    # together): each community has a few roles (the analyst, the data engineer, …) that
    # weigh its topics differently, and each user a role and their own mild variation of it.
    roles = rng.gamma(0.7, size=(len(names), _ROLES, n_tags)) + 0.15
    role = rng.integers(0, _ROLES, size=n_users)
    personal = rng.gamma(3.0, 1 / 3.0, size=(n_users, n_tags))
    focus = (roles[community, role] * personal)[:, vocabulary.topic]
    own = vocabulary.community_weights[community] * focus
    own /= own.sum(axis=1, keepdims=True)
    other = np.where(
        (second >= 0)[:, None], vocabulary.community_weights[np.maximum(second, 0)], own
    )
    outside = (1 - shape.outside_uniform) * site_popularity + shape.outside_uniform / n_tags
    taste = (0.88 - shape.outside) * own + 0.12 * other + shape.outside * outside
    taste /= taste.sum(axis=1, keepdims=True)

    interests = _interests(rng, handles, taste, vocabulary, shape)
    views = _views(rng, handles, taste, courses, shape)
    assessments = _assessments(rng, handles, taste, vocabulary, own)
    course_tags = (
        courses.explode("tags")
        .rename(columns={"tags": "course_tags"})[["course_id", "course_tags"]]
        .reset_index(drop=True)
    )
    course_tags["course_tags"] = course_tags["course_tags"].fillna("").astype("str")
    tables = LearnerTables(
        course_tags=course_tags,
        user_assessment_scores=assessments,
        user_course_views=views,
        user_interests=interests,
    )
    communities = pd.DataFrame(
        {
            "user_handle": handles,
            "community": np.array(names)[community],
            "second_community": np.where(second >= 0, np.array(names)[np.maximum(second, 0)], ""),
        }
    )
    return GeneratedLearners(tables=tables, communities=communities)


def _vocabulary(rng: np.random.Generator, names: list[str]) -> _Vocabulary:
    core = list(dict.fromkeys(tag for c in names for tag in COMMUNITY_TAGS[c]))
    fine = {}
    for tag in core:
        count = rng.integers(1, 5)
        fine[tag] = [f"{tag}-{f}" for f in rng.choice(_FACETS, size=count, replace=False)]
    tags = core + [t for tag in core for t in fine[tag]]
    index = {tag: i for i, tag in enumerate(tags)}
    weights = np.zeros((len(names), len(tags)))
    for row, name in enumerate(names):
        for rank, tag in enumerate(COMMUNITY_TAGS[name]):
            popularity = 1.0 / (rank + 1) ** 0.9  # Zipf inside the community
            weights[row, index[tag]] += popularity
            for facet_rank, sub in enumerate(fine[tag]):
                weights[row, index[sub]] += 0.35 * popularity / (facet_rank + 1)
    weights /= weights.sum(axis=1, keepdims=True)
    assessable = np.zeros(len(tags), dtype=bool)
    assessable[[index[t] for t in core]] = True
    topic = np.array([index[_core_of(tag, core)] for tag in tags])
    return _Vocabulary(tags=tags, community_weights=weights, assessable=assessable, topic=topic)


def _core_of(tag: str, core: list[str]) -> str:
    """The core tag a fine tag was made from (the longest core tag it starts with)."""
    return max((c for c in core if tag == c or tag.startswith(c + "-")), key=len)


def _courses(
    rng: np.random.Generator, vocabulary: _Vocabulary, names: list[str], n_courses: int
) -> pd.DataFrame:
    """Courses per community in proportion to its size; each has a topic tag, a level, an
    author who writes in that community, 0–3 related tags and a Zipf popularity."""
    tags = np.array(vocabulary.tags)
    sizes = np.array([_COMMUNITY_SIZE[c] for c in names])
    authors_per_community = {c: [str(a) for a in rng.integers(100, 9999, size=25)] for c in names}
    rows, seen = [], set()
    for community in rng.choice(len(names), size=n_courses, p=sizes / sizes.sum()):
        weights = vocabulary.community_weights[community]
        for _ in range(20):  # a few tries for an unused slug
            topic = rng.choice(len(tags), p=weights)
            level = LEVELS[rng.choice(3, p=_LEVEL_SHARE)]
            suffix = rng.choice(_COURSE_SUFFIXES[level])
            slug = f"{tags[topic]}-{suffix}"
            if slug in seen:
                slug = f"{slug}-{rng.choice(['2', 'v2', 'update', 'part-2', '2019'])}"
            if slug not in seen:
                break
        else:
            continue
        seen.add(slug)
        related = rng.choice(len(tags), size=rng.integers(0, 4), p=weights)
        course_tags = list(dict.fromkeys([tags[topic], *tags[related]]))
        rows.append(
            {
                "course_id": slug,
                "community": community,
                "topic": topic,
                "tags": course_tags if rng.random() > 0.04 else [],  # a few courses untagged
                "all_tags_index": [int(np.flatnonzero(tags == t)[0]) for t in course_tags],
                "level": level,
                "author_handle": rng.choice(authors_per_community[names[community]]),
            }
        )
    return pd.DataFrame(rows)


def _activity(rng: np.random.Generator, n: int, median: float, sigma: float, cap: int):
    return np.clip(np.round(median * rng.lognormal(0.0, sigma, size=n)), 1, cap).astype(int)


def _sample_without_replacement(
    rng: np.random.Generator, weights: np.ndarray, count: int
) -> np.ndarray:
    """`count` distinct indices, each draw ∝ weight (Gumbel top-k)."""
    keys = np.log(np.maximum(weights, 1e-300)) + rng.gumbel(size=len(weights))
    count = min(count, int((weights > 0).sum()))
    return np.argpartition(-keys, count - 1)[:count] if count else np.array([], dtype=int)


def _timestamps(rng: np.random.Generator, n_users: int, counts: np.ndarray) -> np.ndarray:
    """Each user joins some day and acts within a lognormal span after it."""
    start = rng.integers(0, _SPAN_DAYS, size=n_users)
    span = np.minimum(rng.lognormal(4.0, 1.0, size=n_users), _SPAN_DAYS - start)
    seconds = (
        np.repeat(start, counts) + rng.random(counts.sum()) * np.repeat(span, counts)
    ) * 86_400
    return _FIRST_DAY + pd.to_timedelta(seconds.astype("int64"), unit="s")


def _interests(
    rng: np.random.Generator,
    handles: np.ndarray,
    taste: np.ndarray,
    vocabulary: _Vocabulary,
    shape: GeneratorShape,
) -> pd.DataFrame:
    n = len(handles)
    counts = _activity(rng, n, 20, 0.9 * shape.activity_spread, round(200 * shape.activity_cap))
    counts[rng.random(n) < 0.04] = 0
    chosen = [_sample_without_replacement(rng, taste[u], counts[u]) for u in range(n)]
    counts = np.array([len(c) for c in chosen])
    return (
        pd.DataFrame(
            {
                "user_handle": np.repeat(handles, counts),
                "interest_tag": np.array(vocabulary.tags)[np.concatenate(chosen).astype(int)],
                "date_followed": _timestamps(rng, n, counts),
            }
        )
        .sort_values(["user_handle", "date_followed"], kind="stable", ignore_index=True)
        .astype({"user_handle": "str", "interest_tag": "str"})
    )


def _course_tag_matrix(courses: pd.DataFrame, n_tags: int) -> np.ndarray:
    """Courses × tags: what a course is about (its topic counted twice, related tags once)."""
    matrix = np.zeros((len(courses), n_tags))
    for row, (topic, related) in enumerate(
        zip(courses["topic"], courses["all_tags_index"], strict=True)
    ):
        matrix[row, related] += 1.0
        matrix[row, topic] += 1.0
    return matrix / matrix.sum(axis=1, keepdims=True)


def _views(
    rng: np.random.Generator,
    handles: np.ndarray,
    taste: np.ndarray,
    courses: pd.DataFrame,
    shape: GeneratorShape,
) -> pd.DataFrame:
    """A course's appeal to a user: their taste for what it is about × its popularity. Some
    courses are watched over several days: one row per user, course and day."""
    n, n_tags = taste.shape
    about = _course_tag_matrix(courses, n_tags)
    counts = _activity(rng, n, 12, shape.activity_spread, round(250 * shape.activity_cap))
    counts[rng.random(n) < 0.12] = 0
    popularity = courses["popularity"].to_numpy()
    chosen = []
    for start in range(0, n, 512):  # users × courses, a block of users at a time
        appeal = (taste[start : start + 512] @ about.T) * popularity
        for offset, weights in enumerate(appeal):
            chosen.append(_sample_without_replacement(rng, weights, counts[start + offset]))
    counts = np.array([len(c) for c in chosen])
    picked = np.concatenate(chosen).astype(int)
    days_watched = rng.geometric(0.7, size=len(picked))
    viewer = np.repeat(np.repeat(np.arange(n), counts), days_watched)
    picked = np.repeat(picked, days_watched)
    days = _timestamps(rng, n, np.bincount(viewer, minlength=n))
    level = courses["level"].to_numpy()[picked]
    typical = np.select(
        [level == "Beginner", level == "Intermediate"], [1500.0, 2400.0], default=3200.0
    )
    seconds = (typical * rng.lognormal(-0.6, 1.1, size=len(picked))).clip(10, 40_000)
    return (
        pd.DataFrame(
            {
                "user_handle": handles[viewer],
                "view_date": days.normalize(),
                "course_id": courses["course_id"].to_numpy()[picked],
                "author_handle": courses["author_handle"].to_numpy()[picked],
                "level": level,
                "view_time_seconds": seconds.astype("int64"),
            }
        )
        .drop_duplicates(["user_handle", "course_id", "view_date"])
        .sort_values(["user_handle", "view_date"], kind="stable", ignore_index=True)
        .astype({c: "str" for c in ("user_handle", "course_id", "author_handle", "level")})
    )


def _assessments(
    rng: np.random.Generator,
    handles: np.ndarray,
    taste: np.ndarray,
    vocabulary: _Vocabulary,
    own: np.ndarray,
) -> pd.DataFrame:
    """30 % of users take 1–6 skill assessments on core tags they care about; the score
    (0–300, mean ~150) is higher on their own community's focus, and a retake scores again."""
    n = len(handles)
    takers = rng.random(n) < 0.30
    counts = np.where(takers, np.clip(rng.geometric(0.45, size=n), 1, 6), 0)
    assessable = taste * vocabulary.assessable
    chosen = [_sample_without_replacement(rng, assessable[u], counts[u]) for u in range(n)]
    counts = np.array([len(c) for c in chosen])
    tags = np.concatenate(chosen).astype(int)
    users = np.repeat(np.arange(n), counts)
    skill = rng.normal(size=n)[users]
    expertise = own[users, tags] / own[users].max(axis=1)  # 1 for their main topic
    scores = 150 + 35 * skill + 60 * (expertise - 0.3) + rng.normal(0, 30, size=len(tags))
    return (
        pd.DataFrame(
            {
                "user_handle": handles[users],
                "assessment_tag": np.array(vocabulary.tags)[tags],
                "user_assessment_date": _timestamps(rng, n, counts),
                "user_assessment_score": np.round(scores.clip(MIN_SCORE, MAX_SCORE)),
            }
        )
        .sort_values(["user_handle", "user_assessment_date"], kind="stable", ignore_index=True)
        .astype({"user_handle": "str", "assessment_tag": "str"})
    )
