"""File kinds that cannot carry code when loaded by their usual loader, judged by name.

Only these may be reported CLEAN without a scanner having read them: their loaders (safetensors,
JSON, plain text, SentencePiece/tiktoken vocabularies, Flax msgpack, TensorFlow checkpoint
bundles) parse data and never unpickle or eval it. Anything else a scanner cannot read (ONNX,
GGUF, TorchScript code, unknown binaries) stays NOT_SCANNED.
"""

from __future__ import annotations

import re
from pathlib import PurePosixPath

CODE_FREE_SUFFIXES = frozenset(
    {".safetensors", ".json", ".jsonl", ".txt", ".md", ".tiktoken", ".msgpack", ".index"}
)
CODE_FREE_NAMES = frozenset(
    {
        "tokenizer.model",  # SentencePiece protobuf
        "spiece.model",
        "sentencepiece.bpe.model",
        ".gitattributes",
        ".gitignore",
        "license",
        "notice",
        "readme",
    }
)

# TensorFlow checkpoint shards: variables.data-00000-of-00001
_TF_BUNDLE_SHARD = re.compile(r".+\.data-\d{5}-of-\d{5}")
# Members of a PyTorch zip checkpoint that torch reads as raw bytes or plain text (never unpickles):
# tensor storages and format markers. Its pickles end in .pkl and are scanned.
_TORCH_INERT_MEMBER = re.compile(
    r"(?:[^/]+/)?(?:data/\d+|version|byteorder|\.format_version|\.storage_alignment|\.data/serialization_id"
    r"|\.data/version)"
)


def is_code_free(name: str) -> bool:
    path = PurePosixPath(name)
    return (
        path.suffix.lower() in CODE_FREE_SUFFIXES
        or path.name.lower() in CODE_FREE_NAMES
        or _TF_BUNDLE_SHARD.fullmatch(path.name) is not None
    )


def is_inert_archive_member(member: str) -> bool:
    """Whether a member of an archive (a zip checkpoint) holds nothing a loader would execute."""
    return is_code_free(member) or _TORCH_INERT_MEMBER.fullmatch(member) is not None
