"""The platform's one code location: every product's Definitions plus this deployment's resources.

`ML_PLATFORM_ENV` (local by default, or production) chooses the resources and the executor; see
core/settings.py.
"""

import dagster as dg

from ml_platform.core.quiet_tensorflow import quiet_tensorflow
from ml_platform.core.settings import build_executor, build_resources
from ml_platform.entity_matching import definitions as entity_matching
from ml_platform.prod2vec import definitions as prod2vec
from ml_platform.recommender import definitions as recommender
from ml_platform.similar_users import definitions as similar_users
from ml_platform.tweets import definitions as tweets

quiet_tensorflow()  # before any asset imports TensorFlow, here and in run/step subprocesses

defs = dg.Definitions.merge(
    entity_matching.defs,
    recommender.defs,
    similar_users.defs,
    prod2vec.defs,
    tweets.defs,
    dg.Definitions(resources=build_resources(), executor=build_executor()),
)
