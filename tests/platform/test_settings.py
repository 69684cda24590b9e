"""Settings come from BUDGRAPH_* variables; the Hub's own HF_ENDPOINT / HF_TOKEN are honoured too;
.env.example is generated from them and current."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import Field

from budgraph.settings import Settings
from budgraph.settings_file import (
    ENV_EXAMPLE,
    UndocumentedSetting,
    render_env_example,
    variable,
    write_env_example,
)


def test_hub_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "https://hub-mirror.internal")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    assert (Settings().hf_endpoint, Settings().hf_token) == ("https://hub-mirror.internal", "hf_secret")
    monkeypatch.setenv("BUDGRAPH_HF_ENDPOINT", "https://ours.internal")
    assert Settings().hf_endpoint == "https://ours.internal"


def test_page_cap_is_validated() -> None:
    with pytest.raises(ValueError, match="max_page_size"):
        Settings(max_page_size=0)


def test_env_example_is_current() -> None:
    assert ENV_EXAMPLE.read_text(encoding="utf-8") == render_env_example(), (
        ".env.example is stale: run `make env-example`"
    )


def test_env_example_lists_every_setting_with_its_default() -> None:
    text = render_env_example()
    for name, field in Settings.model_fields.items():
        assert field.description, f"Settings.{name} has no description"
        assert f"\n# {variable(name, field)}=" in text
    assert "\n# BUDGRAPH_LEADERBOARDS_OFFLINE=false\n" in text
    assert "\n# BUDGRAPH_LEADERBOARD_SCHEDULER=arq\n" in text
    assert "One of: dapr, arq." in text
    assert "\n# HF_ENDPOINT" not in text  # the BUDGRAPH_ name is the one listed
    assert "\n# BUDGRAPH_HF_ENDPOINT=https://huggingface.co\n" in text


def test_a_setting_without_a_description_is_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class WithUndocumented(Settings):
        new_thing: int = Field(default=3)

    monkeypatch.setattr("budgraph.settings_file.Settings", WithUndocumented)
    with pytest.raises(UndocumentedSetting, match="new_thing"):
        write_env_example(tmp_path / ".env.example")


def test_a_new_setting_appears_in_the_generated_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    class WithNew(Settings):
        new_thing: int = Field(default=3, description="A thing another engineer added.")

    monkeypatch.setattr("budgraph.settings_file.Settings", WithNew)
    target = tmp_path / ".env.example"
    assert write_env_example(target) is True
    assert "# A thing another engineer added.\n# BUDGRAPH_NEW_THING=3\n" in target.read_text()
    assert write_env_example(target) is False  # unchanged the second time


def test_the_reconciler_interval_divides_a_minute() -> None:
    with pytest.raises(ValueError, match="must divide 60"):
        Settings(reconcile_interval_seconds=7)
