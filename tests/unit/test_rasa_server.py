"""`python -m handoff.rasa_server run ...`: rasa run's own parser reads the secret and origins it adds,
whatever the secret looks like, and nothing can switch them off from the command line."""

from __future__ import annotations

import pytest
from rasa.__main__ import create_argument_parser

from handoff.rasa_server import InsecureRasaArguments, locked_down_arguments
from handoff.settings import HandoffSettings
from handoff.web_origins import OriginsSettingError

GIVEN = ["run", "--enable-api", "--port", "5005"]


@pytest.mark.parametrize("secret", ["-starts-like-an-option", "plain-secret_0123456789", "--double-dash"])
def test_rasas_parser_reads_the_secret_and_the_shop_origins(secret: str) -> None:
    settings = HandoffSettings(rasa_jwt_secret=secret, shop_origins=["https://shop.example"])
    parsed = create_argument_parser().parse_args(locked_down_arguments(GIVEN, settings))
    assert (parsed.jwt_secret, parsed.jwt_method, parsed.cors) == (secret, "HS256", ["https://shop.example"])
    assert parsed.enable_api and parsed.auth_token is None


def test_the_default_origin_is_the_agent_services() -> None:
    settings = HandoffSettings(rasa_jwt_secret="s" * 32, agent_service_url="http://127.0.0.1:5006/base/")
    parsed = create_argument_parser().parse_args(locked_down_arguments(GIVEN, settings))
    assert parsed.cors == ["http://127.0.0.1:5006"]


@pytest.mark.parametrize("arguments", [[], ["--cors", "*"], ["--auth-token", "x"], ["--jwt-secret=x"]])
def test_no_secret_or_an_override_is_refused(arguments: list[str]) -> None:
    secret = "s" * 32 if arguments else ""
    with pytest.raises(InsecureRasaArguments):
        locked_down_arguments([*GIVEN, *arguments], HandoffSettings(rasa_jwt_secret=secret))


def test_shop_origins_are_written_as_browsers_send_them_and_bad_ones_named() -> None:
    settings = HandoffSettings(rasa_jwt_secret="s" * 32, shop_origins=["HTTPS://Shop.Example:443/", "http://b:8080"])
    assert settings.allowed_shop_origins() == ["http://b:8080", "https://shop.example"]
    with pytest.raises(OriginsSettingError, match="shop_origins"):
        locked_down_arguments(GIVEN, HandoffSettings(rasa_jwt_secret="s" * 32, shop_origins=["shop.example"]))
