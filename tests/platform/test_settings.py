"""Settings come from BUDGRAPH_* variables; the Hub's own HF_ENDPOINT / HF_TOKEN are honoured too."""

from __future__ import annotations

import pytest

from budgraph.settings import Settings


def test_hub_variables_are_honoured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_ENDPOINT", "https://hub-mirror.internal")
    monkeypatch.setenv("HF_TOKEN", "hf_secret")
    assert (Settings().hf_endpoint, Settings().hf_token) == ("https://hub-mirror.internal", "hf_secret")
    monkeypatch.setenv("BUDGRAPH_HF_ENDPOINT", "https://ours.internal")
    assert Settings().hf_endpoint == "https://ours.internal"


def test_page_cap_is_validated() -> None:
    with pytest.raises(ValueError, match="max_page_size"):
        Settings(max_page_size=0)
