"""Find out what a model is (architecture, size, context, quantization, licence...) from its metadata
files and safetensors headers, without downloading weights or running remote code."""

from budgraph.extraction.errors import (
    ExtractionError,
    ExtractionFailed,
    FileTooLarge,
    SourceNotFound,
    SourceUnavailable,
    UnsafeUrl,
)
from budgraph.extraction.extract import Progress, extract
from budgraph.extraction.facts import ExtractedFacts
from budgraph.extraction.sources import HubModelFiles, LocalModelFiles, ModelFiles, RemoteFile, UrlModelFiles

__all__ = [
    "ExtractedFacts",
    "ExtractionError",
    "ExtractionFailed",
    "FileTooLarge",
    "HubModelFiles",
    "LocalModelFiles",
    "ModelFiles",
    "Progress",
    "RemoteFile",
    "SourceNotFound",
    "SourceUnavailable",
    "UnsafeUrl",
    "UrlModelFiles",
    "extract",
]
