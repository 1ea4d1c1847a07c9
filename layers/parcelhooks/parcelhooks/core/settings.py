"""A function's settings: read from its own environment once, validated at cold start.

`template.yaml` gives each function exactly the variables its settings class names and is
the one home of every default that can be tuned at deploy time; a class holds a default
only for what the template does not set.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Annotated, Self

from pydantic import BaseModel, BeforeValidator, ConfigDict, StringConstraints, ValidationError


def split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


CsvInts = Annotated[tuple[int, ...], BeforeValidator(split_csv)]
# A table name or queue URL: required, so a function without it fails at cold start.
ResourceName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class SettingsError(RuntimeError):
    """A function started without the environment its template gives it."""


class FunctionSettings(BaseModel):
    """Each field is read from the upper-cased variable of the same name."""

    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Self:
        source = os.environ if environ is None else environ
        names = cls.model_fields.keys()
        values = {name: source[name.upper()] for name in names if name.upper() in source}
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            problems = [
                f"{'.'.join(str(p) for p in problem['loc']).upper()}: {problem['msg']}"
                for problem in error.errors(include_url=False)
            ]
            raise SettingsError(f"{cls.__name__}: " + "; ".join(problems)) from None
