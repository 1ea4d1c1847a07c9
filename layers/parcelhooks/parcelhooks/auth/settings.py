"""What the authorizer function reads from its environment."""

from __future__ import annotations

from parcelhooks.core.settings import FunctionSettings, ResourceName


class AuthorizerSettings(FunctionSettings):
    api_keys_table: ResourceName
