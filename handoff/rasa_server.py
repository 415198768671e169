"""`python -m handoff.rasa_server run [rasa run arguments]`: `rasa run` locked down by the plugin's settings.

- Rasa's HTTP API demands a JWT signed with `rasa_jwt_secret` (`--jwt-secret`). The secret comes from
  the environment and is added to the arguments inside this process, so it never shows on a command
  line, which `ps` shows to every user of the machine.
- CORS headers name only the shop origins (`shop_origins`), never `*`.
- Rasa's usage telemetry stays off: nothing about the conversations leaves the machine.

Refuses to start without a secret, so the API is never open by mistake.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence

from handoff.settings import HandoffSettings
from handoff.web_origins import OriginsSettingError

TELEMETRY_ENV = "RASA_TELEMETRY_ENABLED"


class InsecureRasaArguments(ValueError):
    """The arguments would override what this launcher locks down."""


def locked_down_arguments(arguments: Sequence[str], settings: HandoffSettings) -> list[str]:
    """`rasa` command-line arguments with the JWT secret and the CORS origins of `settings` added."""
    if not settings.rasa_jwt_secret:
        raise InsecureRasaArguments("HANDOFF_RASA_JWT_SECRET is not set: Rasa's HTTP API would be open")
    given = {argument.split("=", 1)[0] for argument in arguments}
    overridden = given & {"--cors", "--auth-token", "--jwt-secret", "--jwt-method"}
    if overridden:
        raise InsecureRasaArguments(f"set by the plugin's settings, not on the command line: {sorted(overridden)}")
    # `--name=value`: a random secret may begin with "-", which argparse would take for an option.
    return [*arguments, f"--jwt-secret={settings.rasa_jwt_secret}", "--jwt-method=HS256",
            "--cors", *settings.allowed_shop_origins()]


def main(arguments: Sequence[str]) -> int:
    try:
        rasa_arguments = locked_down_arguments(arguments, HandoffSettings())
    except (InsecureRasaArguments, OriginsSettingError) as refusal:
        print(f"rasa server cannot start: {refusal}", file=sys.stderr)
        return 2
    os.environ.setdefault(TELEMETRY_ENV, "false")
    # Imported here: Rasa takes seconds to import, and the refusal above should not wait for it.
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *rasa_arguments]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
