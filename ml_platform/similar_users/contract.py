"""What similar users publishes to the serving app: the asset whose stored value is the served
index of user vectors (`<asset>.<format extension>` in the object store, written by the
object-store IO manager), and the assessment score scale a request's scores must lie on — the
scale the product's loader and checks enforce on the learner tables. The product's Definitions
must hold an asset of this name (`ml_platform_tests/similar_users/test_contract.py`); serving
imports nothing else of the product."""

INDEX_ASSET = "similar_users_index"
MIN_SCORE, MAX_SCORE = 0.0, 300.0  # the assessment scale (Pluralsight IQ)
