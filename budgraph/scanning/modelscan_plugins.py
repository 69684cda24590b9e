"""modelscan plugins (loaded by class path from its settings) and the settings that use them.

- ``PickleByContentMiddleware``: modelscan picks a format by extension only, so a pickle named
  ``weights.bin`` or ``optimizer.state`` was skipped, and a legacy (non-zip) PyTorch file had only
  its first pickle (the magic number) read. Files whose bytes start with a pickle header are also
  scanned as pickles, which reads every pickle in the file.
- ``KerasConfigLambdaScan``: modelscan's ``.keras`` scanner refuses to run without TensorFlow,
  though it only reads ``config.json`` from the zip; this one runs without it.
- ``NumpyHeaderScan``: modelscan 0.8's ``.npy`` scanner reads the header with private numpy
  functions that numpy 2.3 no longer exports; this one uses the public ones, then hands the
  pickled part of an object array to modelscan's pickle scanner as before.

Runs only inside the modelscan worker process (modelscan is untyped).
"""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from typing import Any

import numpy
from modelscan.middlewares.middleware import MiddlewareBase  # type: ignore[import-untyped]
from modelscan.model import Model  # type: ignore[import-untyped]
from modelscan.scanners.keras.scan import KerasLambdaDetectScan  # type: ignore[import-untyped]
from modelscan.scanners.pickle.scan import NumpyUnsafeOpScan  # type: ignore[import-untyped]
from modelscan.scanners.scan import ScanResults  # type: ignore[import-untyped]
from modelscan.settings import DEFAULT_SETTINGS, SupportedModelFormats  # type: ignore[import-untyped]
from modelscan.skip import ModelScanSkipped, SkipCategories  # type: ignore[import-untyped]
from modelscan.tools.picklescanner import scan_pickle_bytes  # type: ignore[import-untyped]

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
            named = {existing.value for existing in formats}
            # Only files no scanner claims by name, and PyTorch files (whose scanner reads one pickle).
            if (
                len(head) == 2
                and head[0] == 0x80
                and head[1] in _PICKLE_PROTOCOLS
                and named <= {SupportedModelFormats.PYTORCH.value}
            ):
                model.set_context("formats", [*formats, SupportedModelFormats.PICKLE])
        call_next(model)


class KerasConfigLambdaScan(KerasLambdaDetectScan):  # type: ignore[misc]
    def handle_binary_dependencies(self, settings: dict[str, Any] | None = None) -> str | None:
        return None

    @staticmethod
    def full_name() -> str:
        return f"{__name__}.KerasConfigLambdaScan"


class NumpyHeaderScan(NumpyUnsafeOpScan):  # type: ignore[misc]
    def scan(self, model: Model) -> ScanResults | None:
        if all(found.value != SupportedModelFormats.NUMPY.value for found in model.get_context("formats")):
            return None
        return self.label_results(self._scan_numpy(model))

    def _scan_numpy(self, model: Model) -> ScanResults:
        npy: Any = numpy.lib.format  # typed in some numpy versions, not in others
        stream = model.get_stream()
        magic = stream.read(len(npy.MAGIC_PREFIX))
        stream.seek(0)
        if magic.startswith((b"PK\x03\x04", b"PK\x05\x06")):
            message = "Scanning of .npz files is not implemented yet"
            skipped = ModelScanSkipped(
                "numpy", SkipCategories.NOT_IMPLEMENTED, message, str(model.get_source())
            )
            return ScanResults([], [], [skipped])
        if magic != npy.MAGIC_PREFIX:  # np.load unpickles anything that is not an array
            return scan_pickle_bytes(model, self._settings, "numpy")
        version = npy.read_magic(stream)
        if version == (1, 0):
            _, _, dtype = npy.read_array_header_1_0(stream)
        elif version in ((2, 0), (3, 0)):  # 3.0 differs only in the header's text encoding
            _, _, dtype = npy.read_array_header_2_0(stream)
        else:
            raise ValueError(f"unknown .npy format version {version}")
        if dtype.hasobject:
            return scan_pickle_bytes(model, self._settings, "numpy", True, stream.tell())
        return ScanResults([], [], [])

    @staticmethod
    def full_name() -> str:
        return f"{__name__}.NumpyHeaderScan"


def scan_settings() -> dict[str, Any]:
    settings: dict[str, Any] = copy.deepcopy(DEFAULT_SETTINGS)
    scanners: dict[str, Any] = settings["scanners"]
    scanners[KerasConfigLambdaScan.full_name()] = scanners.pop("modelscan.scanners.KerasLambdaDetectScan")
    scanners[NumpyHeaderScan.full_name()] = scanners.pop("modelscan.scanners.NumpyUnsafeOpScan")
    settings["middlewares"][f"{__name__}.PickleByContentMiddleware"] = {}
    return settings
