"""Every threshold of the analysis is configuration with a documented default."""

from __future__ import annotations

import json

import pytest
from pydantic import BaseModel, ValidationError

from xiaowei.analysis.config import AnalysisConfig


def _models(model: type[BaseModel]) -> list[type[BaseModel]]:
    found = [model]
    for field in model.model_fields.values():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            found += _models(annotation)
    return found


def test_every_setting_is_documented() -> None:
    for section in _models(AnalysisConfig)[1:]:
        for name, field in section.model_fields.items():
            assert field.description, f"{section.__name__}.{name} has no description"


def test_the_whole_configuration_round_trips_through_json() -> None:
    config = AnalysisConfig()
    again = AnalysisConfig.model_validate(json.loads(config.model_dump_json()))
    assert again == config


def test_unknown_sections_are_refused() -> None:
    with pytest.raises(ValidationError):
        AnalysisConfig.model_validate({"flowz": {}})
