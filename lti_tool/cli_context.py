"""The app a ``lms-bridge`` command works on, built lazily from the environment.

Kept apart from ``lti_tool.cli`` so feature packages can define commands
without importing the command group itself.
"""

from __future__ import annotations

from typing import Any

import click

from config import SettingsError


class Context:
    def __init__(self) -> None:
        self._app: Any = None

    @property
    def app(self) -> Any:
        if self._app is None:
            from lti_tool import create_app

            try:
                self._app = create_app()
            except SettingsError as exc:
                raise click.ClickException(str(exc)) from exc
        return self._app


pass_ctx = click.make_pass_decorator(Context, ensure=True)
