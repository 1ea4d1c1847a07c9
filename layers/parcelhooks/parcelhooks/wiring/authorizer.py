"""Builds the authorizer's key store from its settings, once per container."""

from __future__ import annotations

from functools import cache

from parcelhooks.auth.settings import AuthorizerSettings
from parcelhooks.aws import clients
from parcelhooks.aws.api_keys_table import ApiKeysTable


@cache
def settings() -> AuthorizerSettings:
    return AuthorizerSettings.from_env()


@cache
def api_keys() -> ApiKeysTable:
    return ApiKeysTable(clients.table(settings().api_keys_table))
