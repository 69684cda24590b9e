"""Where a model's files come from: the Hugging Face Hub, a local directory, or an http(s) base URL."""

from budgraph.extraction.sources.addresses import unsafe_reason
from budgraph.extraction.sources.base import (
    MAX_RANGE_BYTES,
    MAX_SMALL_FILE_BYTES,
    ModelFiles,
    RemoteFile,
    is_weight_file,
)
from budgraph.extraction.sources.hub import HubModelFiles
from budgraph.extraction.sources.local import LocalModelFiles
from budgraph.extraction.sources.url import UrlModelFiles

__all__ = [
    "MAX_RANGE_BYTES",
    "MAX_SMALL_FILE_BYTES",
    "HubModelFiles",
    "LocalModelFiles",
    "ModelFiles",
    "RemoteFile",
    "UrlModelFiles",
    "is_weight_file",
    "unsafe_reason",
]
