"""safetensors headers: which tensors a checkpoint holds, read without downloading the weights.

A safetensors file starts with an 8-byte little-endian header length N, then N bytes of JSON mapping each
tensor name to its dtype, shape and ``data_offsets`` (relative to the end of the header).
"""

from __future__ import annotations

import json
import math
import struct
from dataclasses import dataclass
from typing import Any

from budgraph.extraction.errors import ExtractionFailed
from budgraph.extraction.sources.base import MAX_RANGE_BYTES, ModelFiles, RemoteFile

# Bits per element of each safetensors dtype (sub-byte float formats included).
DTYPE_BITS = {
    "F64": 64, "F32": 32, "F16": 16, "BF16": 16, "F8_E4M3": 8, "F8_E5M2": 8, "F8_E8M0": 8,
    "F6_E2M3": 6, "F6_E3M2": 6, "F4": 4, "C64": 64,
    "I64": 64, "I32": 32, "I16": 16, "I8": 8, "U64": 64, "U32": 32, "U16": 16, "U8": 8, "BOOL": 8,
}  # fmt: skip
FLOAT_DTYPES = frozenset(
    {"F64", "F32", "F16", "BF16", "F8_E4M3", "F8_E5M2", "F8_E8M0", "F6_E2M3", "F6_E3M2", "F4"}
)
MAX_HEADER_BYTES = MAX_RANGE_BYTES
INDEX_FILE = "model.safetensors.index.json"


@dataclass(frozen=True)
class TensorInfo:
    name: str
    dtype: str
    shape: tuple[int, ...]
    file: str
    start: int  # absolute byte range of the data in ``file``
    end: int

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class SafetensorsHeader:
    file: str
    tensors: dict[str, TensorInfo]
    metadata: dict[str, str]


def parse_header(header: bytes, file: str) -> SafetensorsHeader:
    """Parse the JSON header (the bytes after the 8-byte length prefix) of ``file``."""
    try:
        document = json.loads(header)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ExtractionFailed(f"{file}: the safetensors header is not valid JSON") from error
    if not isinstance(document, dict):
        raise ExtractionFailed(f"{file}: the safetensors header is not a JSON object")
    base = 8 + len(header)
    metadata = document.pop("__metadata__", None) or {}
    tensors = {name: _tensor(name, entry, file, base) for name, entry in document.items()}
    return SafetensorsHeader(file, tensors, {str(k): str(v) for k, v in dict(metadata).items()})


def _tensor(name: str, entry: Any, file: str, base: int) -> TensorInfo:
    try:
        dtype, shape, (start, end) = entry["dtype"], entry["shape"], entry["data_offsets"]
        valid = dtype in DTYPE_BITS and all(isinstance(d, int) and d >= 0 for d in shape)
        valid = valid and isinstance(start, int) and isinstance(end, int) and 0 <= start <= end
    except (KeyError, TypeError, ValueError):
        valid = False
    if not valid:
        raise ExtractionFailed(f"{file}: invalid safetensors entry for tensor {name!r}")
    return TensorInfo(name, dtype, tuple(shape), file, base + start, base + end)


def read_header(files: ModelFiles, path: str, size: int | None) -> SafetensorsHeader:
    """Read the header of ``path`` with two range reads (its length, then the JSON); no tensor data."""
    if size is not None and size < 8:
        raise ExtractionFailed(f"{path} is too small to be a safetensors file")
    (length,) = struct.unpack("<Q", files.read_range(path, 0, 8))
    if length < 2 or length > MAX_HEADER_BYTES or (size is not None and 8 + length > size):
        raise ExtractionFailed(f"{path}: implausible safetensors header length {length}")
    return parse_header(files.read_range(path, 8, 8 + length), path)


@dataclass(frozen=True)
class WeightFiles:
    files: list[RemoteFile]
    source: str  # provenance: the index file, or the single checkpoint
    weight_map: dict[str, str] | None = None  # tensor name -> shard, from the index
    total_size: int | None = None  # the index's metadata.total_size


def find_weight_files(listing: list[RemoteFile], files: ModelFiles) -> WeightFiles | None:
    """The safetensors files that make up the checkpoint: the index's shards, else ``model.safetensors``,
    else the top-level safetensors files (``consolidated.*`` duplicates skipped when others exist)."""
    sizes = {file.path: file.size for file in listing}
    indexes = sorted(p for p in sizes if "/" not in p and p.endswith(".safetensors.index.json"))
    if indexes:
        index = INDEX_FILE if INDEX_FILE in indexes else indexes[0]
        return parse_index(index, files.read_bytes(index), sizes)
    if "model.safetensors" in sizes:
        return WeightFiles([RemoteFile("model.safetensors", sizes["model.safetensors"])], "model.safetensors")
    top = sorted(p for p in sizes if "/" not in p and p.endswith(".safetensors"))
    if len(top) > 1:
        top = [p for p in top if not p.startswith("consolidated")] or top
    if not top:
        return None
    return WeightFiles([RemoteFile(p, sizes[p]) for p in top], ", ".join(top))


def parse_index(index: str, data: bytes, sizes: dict[str, int | None]) -> WeightFiles:
    try:
        document = json.loads(data)
        weight_map = {str(k): str(v) for k, v in document["weight_map"].items()}
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise ExtractionFailed(f"{index} is not a valid safetensors index") from error
    shards = sorted(set(weight_map.values()))
    for shard in shards:
        if not shard.endswith(".safetensors") or shard.startswith("/") or ".." in shard.split("/"):
            raise ExtractionFailed(f"{index} names an invalid shard {shard!r}")
    metadata = document.get("metadata")
    total = metadata.get("total_size") if isinstance(metadata, dict) else None
    total_size = int(total) if isinstance(total, int | float) else None
    return WeightFiles(
        [RemoteFile(s, sizes.get(s)) for s in shards], f"{index} + headers", weight_map, total_size
    )
