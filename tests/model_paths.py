"""Data the model-level tests share (the model itself is `rasa_bot.system.MODEL_PATH`)."""

from rasa_bot.settings import PROJECT_ROOT

NLU_TEST_DIR = PROJECT_ROOT / "tests" / "nlu"
TEST_STORIES = PROJECT_ROOT / "tests" / "test_stories.yml"
