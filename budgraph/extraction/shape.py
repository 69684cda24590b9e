"""A model's shape from a few small reads, for a question that cannot wait for a full extraction.

``read_shape_files`` does the network part (the listing, ``config.json``, and the safetensors index or
the single checkpoint's header; never a shard header more), ``shape_facts`` the rest, offline: the
same config, modality and KV-cache facts a full extraction records. A sharded checkpoint's weight
bytes are the index's ``metadata.total_size``; its parameter count is estimated from them when the
weights are unquantized and their dtype is known (a full extraction counts them exactly).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from budgraph.extraction.config import config_facts, load_config
from budgraph.extraction.errors import ExtractionFailed
from budgraph.extraction.extract import SAFETENSORS_DTYPES, kv_cache_fact, modality_fact
from budgraph.extraction.facts import ExtractedFacts
from budgraph.extraction.kv_cache import dtype_bytes
from budgraph.extraction.parameters import count_parameters
from budgraph.extraction.safetensors_headers import INDEX_FILE, SafetensorsHeader, parse_index, read_header
from budgraph.extraction.sources.base import MAX_SMALL_FILE_BYTES, ModelFiles

SINGLE_CHECKPOINT = "model.safetensors"


@dataclass(frozen=True)
class ShapeFiles:
    """What the few reads returned."""

    revision: str | None
    gated: bool | None
    names: frozenset[str]
    config: bytes
    total_size: int | None = None  # the safetensors index's metadata.total_size
    header: SafetensorsHeader | None = None  # the single checkpoint's header
    warnings: list[str] = field(default_factory=list)


def read_shape_files(
    files: ModelFiles, max_config_bytes: int, max_index_bytes: int = MAX_SMALL_FILE_BYTES
) -> ShapeFiles:
    """The listing, ``config.json`` (at most ``max_config_bytes``), and the weights' index or header.

    Raises ``SourceUnavailable`` / ``ExtractionFailed`` like every source; no config.json, or one
    over the cap, is an ``ExtractionFailed`` (``FileTooLarge``)."""
    listing = files.list_files()
    sizes = {file.path: file.size for file in listing}
    if "config.json" not in sizes:
        raise ExtractionFailed("the repository has no config.json: its architecture is unknown")
    config = files.read_bytes("config.json", max_config_bytes)
    warnings: list[str] = []
    total_size: int | None = None
    header: SafetensorsHeader | None = None
    try:  # the weights' size is a bonus: a broken index or header leaves it unknown
        if INDEX_FILE in sizes:
            index = files.read_bytes(INDEX_FILE, max_index_bytes)
            total_size = parse_index(INDEX_FILE, index, sizes).total_size
        elif SINGLE_CHECKPOINT in sizes:
            header = read_header(files, SINGLE_CHECKPOINT, sizes[SINGLE_CHECKPOINT])
    except ExtractionFailed as error:
        warnings.append(f"weight size unknown: {error.message}")
    return ShapeFiles(files.revision, files.gated, frozenset(sizes), config, total_size, header, warnings)


def shape_facts(found: ShapeFiles) -> ExtractedFacts:
    """The facts ``found`` gives: config.json's, the weights' size, the KV cache per token."""
    facts = ExtractedFacts()
    facts.warnings.extend(found.warnings)
    facts.record("revision", found.revision, "source revision")
    facts.record("gated", found.gated, "source repository info")
    config = load_config(found.config, facts.warnings)
    config_facts(config, facts)
    modality_fact(config, found.names, facts)
    if found.header is not None:
        _header_facts(found.header, facts)
    elif found.total_size is not None:
        _index_facts(found.total_size, facts)
    kv_cache_fact(facts)
    return facts


def _header_facts(header: SafetensorsHeader, facts: ExtractedFacts) -> None:
    count = count_parameters(
        header.tensors.values(),
        quantization_method=facts.quantization_method,
        quantization_bits=facts.quantization_bits,
        experts_total=facts.experts_total,
        experts_active=facts.experts_active,
    )
    source = f"{SINGLE_CHECKPOINT} header"
    facts.record("parameter_count", count.total or None, source)
    facts.record("active_parameter_count", count.active or None, source)
    facts.record("weight_bytes", count.weight_bytes or None, source)
    if facts.dtype is None and count.by_dtype:
        stored = count.by_dtype.most_common(1)[0][0]
        facts.record("dtype", SAFETENSORS_DTYPES.get(stored, stored.lower()), f"{source} (most parameters)")


def _index_facts(total_size: int, facts: ExtractedFacts) -> None:
    where = f"{INDEX_FILE}:metadata.total_size"
    facts.record("weight_bytes", total_size or None, where)
    element = dtype_bytes(facts.dtype)
    if facts.quantization_method is None and element and total_size:
        estimate = f"{where} / {element} bytes ({facts.dtype}), an estimate"
        facts.record("parameter_count", total_size // element, estimate)
        if facts.experts_total is None:
            facts.record("active_parameter_count", total_size // element, estimate)
