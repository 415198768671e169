"""Paths the model-level tests share."""

from rasa_bot.settings import PROJECT_ROOT

MODEL = PROJECT_ROOT / "models" / "paylater.tar.gz"
# The shop's domain file and the plugin's fragment, merged by Rasa.
DOMAIN_DIR = PROJECT_ROOT / "domain"
NLU_TEST_DIR = PROJECT_ROOT / "tests" / "nlu"
TEST_STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
