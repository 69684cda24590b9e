"""modelscan plugins (loaded by class path from its settings) and the settings that use them.

- ``PickleByContentMiddleware``: modelscan picks a format by extension only, so a pickle named
  ``weights.bin`` or ``optimizer.state`` was skipped, and a legacy (non-zip) PyTorch file had only
  its first pickle (the magic number) read. Files whose bytes start with a pickle header are also
  scanned as pickles, which reads every pickle in the file.
- ``KerasConfigLambdaScan``: modelscan's ``.keras`` scanner refuses to run without TensorFlow,
  though it only reads ``config.json`` from the zip; this one runs without it.

Runs only inside the modelscan worker process (modelscan is untyped).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

from modelscan.middlewares.middleware import MiddlewareBase  # type: ignore[import-untyped]
from modelscan.model import Model  # type: ignore[import-untyped]
from modelscan.scanners.keras.scan import KerasLambdaDetectScan  # type: ignore[import-untyped]
from modelscan.settings import DEFAULT_SETTINGS, SupportedModelFormats  # type: ignore[import-untyped]

from budgraph.scanning.formats import is_code_free

_PICKLE_PROTOCOLS = range(2, 6)  # protocols 2-5 start with PROTO <n>; 0 and 1 have no header


class PickleByContentMiddleware(MiddlewareBase):  # type: ignore[misc]
    def __call__(self, model: Model, call_next: Callable[[Model], None]) -> None:
        source = str(model.get_source())
        # Archive members ("file.pt:archive/data/0") are judged by name: tensor storages may start
        # with any bytes, and loaders only unpickle the members named *.pkl.
        if os.path.isfile(source) and not is_code_free(source):
            stream = model.get_stream()
            head = stream.read(2)
            stream.seek(0)
            formats: list[Any] = model.get_context("formats") or []
            pickle = SupportedModelFormats.PICKLE
            if (
                len(head) == 2
                and head[0] == 0x80
                and head[1] in _PICKLE_PROTOCOLS
                and all(existing.value != pickle.value for existing in formats)
            ):
                model.set_context("formats", [*formats, pickle])
        call_next(model)


class KerasConfigLambdaScan(KerasLambdaDetectScan):  # type: ignore[misc]
    def handle_binary_dependencies(self, settings: dict[str, Any] | None = None) -> str | None:
        return None

    @staticmethod
    def full_name() -> str:
        return f"{__name__}.KerasConfigLambdaScan"


def scan_settings() -> dict[str, Any]:
    settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)
    scanners: dict[str, Any] = settings["scanners"]
    scanners[KerasConfigLambdaScan.full_name()] = scanners.pop("modelscan.scanners.KerasLambdaDetectScan")
    settings["middlewares"][f"{__name__}.PickleByContentMiddleware"] = {}
    return settings
