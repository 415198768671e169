"""Data the model-level tests share (the model itself is `rasa_bot.system.MODEL_PATH`)."""

from rasa_bot.settings import PROJECT_ROOT

# The shop's domain file and the plugin's fragment, merged by Rasa.
DOMAIN_DIR = PROJECT_ROOT / "domain"
NLU_TEST_DIR = PROJECT_ROOT / "tests" / "nlu"
TEST_STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
