import pytest

from ml_platform_tests.tweets.trained import Trained, trained


@pytest.fixture(scope="session")
def trained_classifier() -> Trained:
    return trained()
