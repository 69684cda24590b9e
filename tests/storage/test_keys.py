"""Object names: models/{model_id}/{revision}/{path}, with every part validated."""

from __future__ import annotations

import pytest

from budgraph.storage import InvalidObjectPath, ObjectKey


def test_the_object_name() -> None:
    assert ObjectKey(42, "main", "tokenizer/vocab.json").name == "models/42/main/tokenizer/vocab.json"
    assert ObjectKey(0, "v1.0_rc-2", "model-00001-of-00002.safetensors").name == (
        "models/0/v1.0_rc-2/model-00001-of-00002.safetensors"
    )
    assert ObjectKey(1, "a" * 40, "répertoire/模型 weights.bin").path == "répertoire/模型 weights.bin"


@pytest.mark.parametrize(
    ("path", "why"),
    [
        ("", "empty"),
        ("/etc/passwd", "absolute"),
        ("C:/Windows/evil", "absolute"),
        ("c:evil", "absolute"),
        ("../evil", "not normalised"),
        ("a/../../evil", "not normalised"),
        ("..", "not normalised"),
        ("./config.json", "not normalised"),
        ("a/./b", "not normalised"),
        ("a//b", "not normalised"),
        ("folder/", "not normalised"),
        ("..\\evil", "backslash"),
        ("a\\b", "backslash"),
        ("a\x00b", "NUL"),
        ("a\nb", "control"),
        ("x" * 256, "longer than 255 bytes"),
        ("\udcff.bin", "not valid UTF-8"),
    ],
)
def test_invalid_paths(path: str, why: str) -> None:
    with pytest.raises(InvalidObjectPath, match=why):
        ObjectKey(1, "main", path)


def test_the_whole_name_fits_an_s3_key() -> None:
    ObjectKey(1, "main", "/".join(["x" * 200] * 5))
    with pytest.raises(InvalidObjectPath, match="longer than 1024 bytes"):
        ObjectKey(1, "main", "/".join(["x" * 200] * 6))


@pytest.mark.parametrize(
    "revision", ["", ".", "..", ".hidden", "-x", "a/b", "a b", "refs/pr/1", "é", "x" * 129]
)
def test_invalid_revisions(revision: str) -> None:
    with pytest.raises(InvalidObjectPath, match="invalid revision"):
        ObjectKey(1, revision, "config.json")


@pytest.mark.parametrize("model_id", [-1, True])
def test_invalid_model_ids(model_id: int) -> None:
    with pytest.raises(InvalidObjectPath, match="invalid model id"):
        ObjectKey(model_id, "main", "config.json")
