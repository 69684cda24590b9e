"""The importers on the shipped source files of real releases: exact facts each release's code declares."""

from __future__ import annotations

import functools
import hashlib
import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest
from packaging.version import Version

from budgraph.releases.extract import SOURCES, extract
from budgraph.releases.facts import ArchitectureFact, QuantizationFact, ReleaseFacts
from budgraph.releases.importers import IMPORTERS, ReleaseImportError, import_release, shipped_releases
from budgraph.releases.shipped_facts import FACTS_FILE, ShippedFacts, load, render
from budgraph.releases.tree import open_shipped
from budgraph.seeds.files import records

SHIPPED = {
    # 0.31-0.33: recent; 0.5.0 and 0.8.0: what the predecessor's two Bud images package; 0.8.5 and
    # 0.9.1: what the official CUDA and AMD's ROCm images of the seed package.
    "vllm": ("0.5.0", "0.8.0", "0.8.5", "0.9.1", "0.31.0", "0.32.0", "0.33.0"),
    "sglang": ("0.5.22", "0.5.23"),
    "llamacpp": ("0.3.35", "0.3.36"),
}
RELEASES = sorted(
    ((engine, version) for engine, versions in SHIPPED.items() for version in versions),
    key=lambda r: (r[0], Version(r[1])),
)


@functools.cache
def facts(engine: str, version: str) -> ReleaseFacts:
    return import_release(engine, version, SOURCES / engine / version)


def arch(engine: str, version: str, name: str) -> ArchitectureFact:
    found = [a for a in facts(engine, version).architectures if a.class_name == name]
    assert len(found) == 1, f"{name} in {engine} {version}"
    return found[0]


def quant(engine: str, version: str, method: str, device: str = "CUDA") -> QuantizationFact:
    found = [
        q
        for q in facts(engine, version).quantization
        if q.method == method and q.device_architecture == device
    ]
    assert len(found) == 1, f"{method} on {device} in {engine} {version}"
    return found[0]


def names(engine: str, version: str) -> set[str]:
    return {a.class_name for a in facts(engine, version).architectures}


def test_every_engine_has_an_importer_and_every_release_is_shipped() -> None:
    assert sorted(IMPORTERS) == sorted(SHIPPED)
    shipped = sorted((p.parent.name, p.name) for p in SOURCES.glob("*/*") if p.is_dir())
    assert shipped == sorted(RELEASES)
    listed = shipped_releases()
    assert [(r.engine, r.version) for r in listed] == RELEASES  # by engine, then by version order
    assert listed[0].path == SOURCES / "llamacpp" / "0.3.35"
    assert listed[0].artifact_url.endswith("/llama_cpp_python-0.3.35.tar.gz")


@pytest.mark.parametrize(("engine", "version"), RELEASES)
def test_facts_are_sorted_unique_and_sourced(engine: str, version: str) -> None:
    got = facts(engine, version)
    manifest = json.loads((SOURCES / engine / version / "MANIFEST.json").read_text())
    assert (got.engine, got.version, got.artifact) == (engine, version, manifest["artifact"])
    classes = [a.class_name for a in got.architectures]
    assert classes == sorted(set(classes))
    assert len(classes) > 40
    assert [(q.method, q.device_architecture) for q in got.quantization] == sorted(
        {(q.method, q.device_architecture) for q in got.quantization}
    )
    shipped_files = {f["path"] for f in manifest["files"]}
    for fact in (*got.architectures, *got.dropped, *got.quantization):
        assert fact.source.artifact == manifest["artifact"]
        assert fact.source.version == version
        assert fact.source.file in shipped_files
        assert fact.source.symbol


# vLLM ------------------------------------------------------------------------------------------------


def test_vllm_text_generation_architecture_with_its_interfaces() -> None:
    llama = arch("vllm", "0.33.0", "LlamaForCausalLM")
    assert llama.task == "generate"
    # In _TEXT_GENERATION_MODELS and, through the registry's comprehension over it, in _EMBEDDING_MODELS.
    assert llama.endpoints == ("CHAT", "COMPLETION", "EMBEDDING")
    assert (llama.supports_pipeline_parallelism, llama.supports_lora, llama.multimodal) == (True, True, False)
    assert llama.source.file == "vllm/model_executor/models/registry.py"
    assert llama.source.symbol == "_TEXT_GENERATION_MODELS['LlamaForCausalLM']"
    assert [s.symbol for s in llama.other_sources] == ["_EMBEDDING_MODELS['LlamaForCausalLM']"]


def test_vllm_embedding_architecture_serves_only_embeddings() -> None:
    bert = arch("vllm", "0.33.0", "BertModel")
    assert (bert.task, bert.endpoints) == ("embedding", ("EMBEDDING",))
    assert bert.source.symbol == "_EMBEDDING_MODELS['BertModel']"


def test_vllm_transcription_only_and_multimodal_and_cross_encoder() -> None:
    whisper = arch("vllm", "0.33.0", "WhisperForConditionalGeneration")
    # whisper.py: class WhisperForConditionalGeneration(nn.Module, SupportsTranscription, ...),
    # supports_transcription_only = True, no SupportsPP.
    assert (whisper.task, whisper.endpoints, whisper.multimodal) == (
        "transcription",
        ("TRANSCRIPTION",),
        True,
    )
    assert (whisper.supports_pipeline_parallelism, whisper.supports_lora) == (False, True)
    qwen_vl = arch("vllm", "0.33.0", "Qwen2VLForConditionalGeneration")
    assert (qwen_vl.task, qwen_vl.multimodal) == ("multimodal", True)
    cross = arch("vllm", "0.33.0", "BertForSequenceClassification")
    assert (cross.task, cross.endpoints) == ("cross-encoder", ("CLASSIFY", "RERANK"))


def test_vllm_architectures_added_between_releases() -> None:
    assert "ExaoneMoEForCausalLM" not in names("vllm", "0.31.0")
    assert arch("vllm", "0.32.0", "ExaoneMoEForCausalLM").task == "generate"
    assert "Step5ForCausalLM" not in names("vllm", "0.32.0")
    assert arch("vllm", "0.33.0", "Step5ForCausalLM").endpoints == ("CHAT", "COMPLETION")
    # Speculative-decoding drafts are not architectures a checkpoint is served as.
    assert "EagleLlamaForCausalLM" not in names("vllm", "0.33.0")


def test_vllm_architecture_dropped_between_releases() -> None:
    mpt = arch("vllm", "0.8.0", "MPTForCausalLM")
    assert (mpt.task, mpt.source.symbol) == ("generate", "_TEXT_GENERATION_MODELS['MPTForCausalLM']")
    assert "MPTForCausalLM" not in names("vllm", "0.31.0")
    dropped = {d.class_name: d for d in facts("vllm", "0.31.0").dropped}
    assert dropped["MPTForCausalLM"].last_supported_version == "0.28.0"
    assert facts("vllm", "0.8.0").dropped == ()  # 0.8.0 has no _PREVIOUSLY_SUPPORTED_MODELS yet


def test_vllm_0_5_registry_and_flags_before_the_interfaces() -> None:
    llama = arch("vllm", "0.5.0", "LlamaForCausalLM")
    assert (llama.source.file, llama.source.symbol) == (
        "vllm/model_executor/models/__init__.py",
        "_GENERATION_MODELS['LlamaForCausalLM']",
    )
    # No SupportsPP in 0.5.0: the release does not say. LoRA: `supported_lora_modules` on the class.
    assert (llama.supports_pipeline_parallelism, llama.supports_lora) == (None, True)
    assert arch("vllm", "0.5.0", "MistralModel").endpoints == ("EMBEDDING",)
    fp8 = quant("vllm", "0.5.0", "fp8")
    # 0.5.0 fp8.py: Fp8Config.get_min_capability returns 89 (Ada); 0.8.0 lowered it to 80, 0.33.0 to 75.
    assert (fp8.min_compute_capability, fp8.source.symbol) == ("8.9", "Fp8Config.get_min_capability")
    assert quant("vllm", "0.8.0", "fp8").min_compute_capability == "8.0"
    assert {q.method for q in facts("vllm", "0.5.0").quantization} == {
        "aqlm",
        "awq",
        "bitsandbytes",
        "compressed-tensors",
        "deepspeedfp",
        "fp8",
        "gptq",
        "gptq_marlin",
        "gptq_marlin_24",
        "marlin",
        "squeezellm",
    }


def test_vllm_0_8_whisper_before_the_transcription_only_flag() -> None:
    # 0.8.0 has SupportsTranscription but no supports_transcription_only flag yet, so its table (multimodal)
    # gives the chat and completion endpoints too.
    whisper = arch("vllm", "0.8.0", "WhisperForConditionalGeneration")
    assert whisper.endpoints == ("CHAT", "COMPLETION", "TRANSCRIPTION")


def test_vllm_dropped_architectures() -> None:
    dropped = {d.class_name: d for d in facts("vllm", "0.33.0").dropped}
    assert dropped["MPTForCausalLM"].last_supported_version == "0.28.0"
    assert dropped["MPTForCausalLM"].source.symbol == "_PREVIOUSLY_SUPPORTED_MODELS['MPTForCausalLM']"
    assert "MPTForCausalLM" not in names("vllm", "0.33.0")
    assert len(dropped) == 50


def test_vllm_quantization_minimum_capabilities() -> None:
    fp8 = quant("vllm", "0.33.0", "fp8")
    # fp8.py: Fp8Config.get_min_capability returns 75, get_supported_act_dtypes [torch.bfloat16, torch.half].
    assert (fp8.min_compute_capability, fp8.activation_dtypes) == ("7.5", ("bfloat16", "float16"))
    assert (fp8.source.file, fp8.source.symbol) == (
        "vllm/model_executor/layers/quantization/fp8.py",
        "Fp8Config.get_min_capability",
    )
    assert quant("vllm", "0.33.0", "mxfp4").min_compute_capability == "8.0"
    assert quant("vllm", "0.33.0", "compressed-tensors").min_compute_capability == "7.0"
    assert quant("vllm", "0.33.0", "fp_quant").min_compute_capability == "10.0"
    # Chosen at run time by platform: recorded as unknown, and the symbol says why.
    computed = quant("vllm", "0.33.0", "deepseek_v4_fp8")
    assert computed.min_compute_capability is None
    assert computed.source.symbol == "get_quantization_config.method_to_config['deepseek_v4_fp8'] (computed)"


# SGLang ----------------------------------------------------------------------------------------------


def test_sglang_entry_classes() -> None:
    llama = arch("sglang", "0.5.23", "LlamaForCausalLM")
    assert (llama.task, llama.endpoints) == ("generate", ("CHAT", "COMPLETION"))
    assert (llama.source.file, llama.source.symbol) == (
        "sglang/srt/models/llama.py",
        "EntryClass LlamaForCausalLM",
    )
    assert arch("sglang", "0.5.23", "BertModel").endpoints == ("EMBEDDING",)
    assert arch("sglang", "0.5.23", "BertForSequenceClassification").endpoints == ("CLASSIFY", "RERANK")
    assert arch("sglang", "0.5.23", "Qwen2VLForConditionalGeneration").multimodal is True
    assert arch("sglang", "0.5.23", "Gemma2ForCausalLM").supports_lora is True  # supports_lora = True
    assert "MuseSparkForConditionalGeneration" not in names("sglang", "0.5.22")
    assert arch("sglang", "0.5.23", "MuseSparkForConditionalGeneration").task == "multimodal"


def test_sglang_quantization_table() -> None:
    assert "minimax_m3_nvfp4" not in {q.method for q in facts("sglang", "0.5.22").quantization}
    nvfp4 = quant("sglang", "0.5.23", "minimax_m3_nvfp4")
    assert (nvfp4.min_compute_capability, nvfp4.activation_dtypes) == ("9.0", ("bfloat16", "float16"))
    assert quant("sglang", "0.5.23", "w8a8_fp8").min_compute_capability == "8.9"
    # CPU_QUANTIZATION_METHODS: the CPU facts carry no compute capability.
    cpu = quant("sglang", "0.5.23", "w8a8_int8", "CPU")
    assert cpu.min_compute_capability is None
    assert cpu.activation_dtypes == ("float16", "bfloat16")


# llama.cpp -------------------------------------------------------------------------------------------


def test_llamacpp_gguf_architectures() -> None:
    llama = arch("llamacpp", "0.3.36", "LlamaForCausalLM")
    assert (llama.gguf_architecture, llama.endpoints) == ("llama", ("CHAT", "COMPLETION"))
    assert llama.source.file == "vendor/llama.cpp/conversion/llama.py"
    # Registered on a class that inherits model_arch from LlamaModel.
    assert arch("llamacpp", "0.3.36", "MistralForCausalLM").gguf_architecture == "llama"
    bert = arch("llamacpp", "0.3.36", "BertModel")
    assert (bert.gguf_architecture, bert.endpoints, bert.task) == ("bert", ("EMBEDDING",), "embedding")
    gemma3 = arch("llamacpp", "0.3.36", "Gemma3ForConditionalGeneration")
    assert (gemma3.gguf_architecture, gemma3.multimodal) == ("gemma3", True)
    assert "Dots3NoteForCausalLM" not in names("llamacpp", "0.3.35")
    assert "Dots3NoteForCausalLM" in names("llamacpp", "0.3.36")


def test_llamacpp_gguf_runs_on_the_backends_the_tree_builds() -> None:
    gguf = [
        (q.method, q.device_architecture, q.source.file) for q in facts("llamacpp", "0.3.36").quantization
    ]
    assert gguf == [
        ("gguf", "CPU", "vendor/llama.cpp/ggml/src/ggml-cpu/CMakeLists.txt"),
        ("gguf", "CUDA", "vendor/llama.cpp/ggml/src/ggml-cuda/CMakeLists.txt"),
        ("gguf", "ROCM", "vendor/llama.cpp/ggml/src/ggml-hip/CMakeLists.txt"),
    ]


# Artifacts -------------------------------------------------------------------------------------------


def shipped_files(engine: str, version: str) -> dict[str, bytes]:
    tree = open_shipped(SOURCES / engine / version)
    manifest = json.loads((SOURCES / engine / version / "MANIFEST.json").read_text())
    return {f["path"]: tree.read(f["path"]) or b"" for f in manifest["files"]}


def metadata(name: str, version: str) -> bytes:
    return f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n\n".encode()


def build_wheel(path: Path, files: dict[str, bytes], name: str, version: str) -> Path:
    with zipfile.ZipFile(path, "w") as wheel:
        for member, data in files.items():
            wheel.writestr(member, data)
        wheel.writestr(f"{name}-{version}.dist-info/METADATA", metadata(name, version))
    return path


def build_sdist(path: Path, files: dict[str, bytes], name: str, version: str) -> Path:
    top = f"{name}-{version}"
    with tarfile.open(path, "w:gz") as sdist:
        for member, data in {**files, "PKG-INFO": metadata(name, version)}.items():
            info = tarfile.TarInfo(f"{top}/{member}")
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))
    return path


@pytest.mark.parametrize(
    ("engine", "version", "name"), [("vllm", "0.33.0", "vllm"), ("sglang", "0.5.23", "sglang")]
)
def test_a_wheel_gives_the_facts_of_its_shipped_tree(
    tmp_path: Path, engine: str, version: str, name: str
) -> None:
    artifact = json.loads((SOURCES / engine / version / "MANIFEST.json").read_text())["artifact"]
    wheel = build_wheel(tmp_path / artifact, shipped_files(engine, version), name, version)
    assert import_release(engine, version, wheel) == facts(engine, version)


def test_an_sdist_and_its_unpacked_tree_give_the_facts_of_the_shipped_tree(tmp_path: Path) -> None:
    files = shipped_files("llamacpp", "0.3.36")
    sdist = build_sdist(tmp_path / "llama_cpp_python-0.3.36.tar.gz", files, "llama_cpp_python", "0.3.36")
    assert import_release("llamacpp", "0.3.36", sdist) == facts("llamacpp", "0.3.36")
    unpacked = tmp_path / "unpacked"
    with tarfile.open(sdist) as tar:
        tar.extractall(unpacked, filter="data")
    got = import_release("llamacpp", "0.3.36", unpacked)
    # A directory is named by its folder; every fact is otherwise the same.
    assert got.artifact == "llama_cpp_python-0.3.36"
    assert [a.class_name for a in got.architectures] == [
        a.class_name for a in facts("llamacpp", "0.3.36").architectures
    ]
    assert [a.gguf_architecture for a in got.architectures] == [
        a.gguf_architecture for a in facts("llamacpp", "0.3.36").architectures
    ]


@pytest.mark.parametrize(("engine", "version"), RELEASES)
def test_shipped_files_match_their_manifest(engine: str, version: str) -> None:
    root = SOURCES / engine / version
    manifest = json.loads((root / "MANIFEST.json").read_text())
    assert manifest["artifact_url"].startswith("https://files.pythonhosted.org/packages/")
    assert manifest["artifact_url"].endswith("/" + manifest["artifact"])
    assert len(manifest["artifact_sha256"]) == 64
    bundled: dict[str, bytes] = {}
    for bundle in manifest.get("bundles", []):
        data = (root / bundle["name"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == bundle["sha256"]
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:xz") as tar:
            for member in tar.getmembers():
                handle = tar.extractfile(member)
                assert handle is not None
                bundled[member.name] = handle.read()
    listed = set()
    for entry in manifest["files"]:
        data = bundled[entry["path"]] if "bundle" in entry else (root / entry["path"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"], entry["path"]
        assert len(data) == entry["size"]
        listed.add(entry["path"])
    assert set(bundled) <= listed
    loose = {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}
    assert loose - listed == {"MANIFEST.json", *(b["name"] for b in manifest.get("bundles", []))}


# Bad input -------------------------------------------------------------------------------------------


def test_unknown_engine() -> None:
    with pytest.raises(
        ReleaseImportError, match=r"unknown engine 'tensorrt'; importers exist for: llamacpp, sglang, vllm"
    ):
        import_release("tensorrt", "1.0", SOURCES / "vllm" / "0.33.0")


def test_missing_path(tmp_path: Path) -> None:
    with pytest.raises(ReleaseImportError, match=r"nowhere\.whl: no such file or directory"):
        import_release("vllm", "0.33.0", tmp_path / "nowhere.whl")


def test_not_an_artifact(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(
        ReleaseImportError, match=r"not a wheel \(\.whl\), an sdist \(\.tar\.gz\) or a source directory"
    ):
        import_release("vllm", "0.33.0", tmp_path / "notes.txt")
    (tmp_path / "broken.whl").write_text("not a zip")
    with pytest.raises(ReleaseImportError, match="not a readable wheel"):
        import_release("vllm", "0.33.0", tmp_path / "broken.whl")


def test_artifact_of_another_engine() -> None:
    with pytest.raises(
        ReleaseImportError, match=r"not an artifact of sglang \(its metadata names 'vllm', not 'sglang'\)"
    ):
        import_release("sglang", "0.33.0", SOURCES / "vllm" / "0.33.0")


def test_version_mismatch() -> None:
    with pytest.raises(ReleaseImportError, match=r"is release 0\.33\.0, not --version 0\.32\.0"):
        import_release("vllm", "0.32.0", SOURCES / "vllm" / "0.33.0")


def test_a_file_the_importer_needs_is_absent(tmp_path: Path) -> None:
    files = shipped_files("vllm", "0.33.0")
    del files["vllm/model_executor/models/registry.py"]
    wheel = build_wheel(tmp_path / "vllm-0.33.0-py3-none-any.whl", files, "vllm", "0.33.0")
    with pytest.raises(
        ReleaseImportError, match=r"not a vLLM release \(vllm/model_executor/models/registry\.py is absent\)"
    ):
        import_release("vllm", "0.33.0", wheel)
    files = shipped_files("llamacpp", "0.3.36")
    del files["vendor/llama.cpp/gguf-py/gguf/constants.py"]
    sdist = build_sdist(tmp_path / "llama_cpp_python-0.3.36.tar.gz", files, "llama_cpp_python", "0.3.36")
    with pytest.raises(ReleaseImportError, match=r"not a llama-cpp-python release"):
        import_release("llamacpp", "0.3.36", sdist)


def test_a_registry_that_is_computed_is_refused(tmp_path: Path) -> None:
    files = shipped_files("vllm", "0.33.0")
    path = "vllm/model_executor/models/registry.py"
    files[path] = files[path].replace(
        b"_TEXT_GENERATION_MODELS = {", b"_TEXT_GENERATION_MODELS = load() or {", 1
    )
    wheel = build_wheel(tmp_path / "vllm-0.33.0-py3-none-any.whl", files, "vllm", "0.33.0")
    with pytest.raises(ReleaseImportError, match=r"`_TEXT_GENERATION_MODELS` is not a literal table"):
        import_release("vllm", "0.33.0", wheel)


def test_extract_reproduces_the_shipped_tree(tmp_path: Path) -> None:
    """``extract`` on an artifact writes the shipped files of that release, byte for byte."""
    root = SOURCES / "llamacpp" / "0.3.36"
    manifest = json.loads((root / "MANIFEST.json").read_text())
    files = shipped_files("llamacpp", "0.3.36")
    sdist = build_sdist(tmp_path / manifest["artifact"], files, "llama_cpp_python", "0.3.36")
    out = extract("llamacpp", "0.3.36", sdist, url=manifest["artifact_url"], sources=tmp_path / "sources")
    again = json.loads((out / "MANIFEST.json").read_text())
    assert again["files"] == manifest["files"]
    assert again["bundles"] == manifest["bundles"]
    assert (out / "bundle.tar.xz").read_bytes() == (root / "bundle.tar.xz").read_bytes()
    loose = "vendor/llama.cpp/convert_hf_to_gguf.py"
    assert (out / loose).read_bytes() == (root / loose).read_bytes()
    assert import_release("llamacpp", "0.3.36", out) == facts("llamacpp", "0.3.36")


def test_sglang_pooling_models_by_their_heads() -> None:
    # qwen2_rm.py: a Pooler, no LogitsProcessor, and a `self.score` head: served on /classify.
    reward = arch("sglang", "0.5.23", "Qwen2ForRewardModel")
    assert (reward.task, reward.endpoints) == ("classification", ("CLASSIFY",))
    assert arch("sglang", "0.5.23", "LlamaForClassification").endpoints == ("CLASSIFY",)
    # qwen3_embedding.py: a Pooler and no head.
    assert arch("sglang", "0.5.23", "Qwen3Model").endpoints == ("EMBEDDING",)
    # transformers.py: CausalMixin builds a LogitsProcessor, so the union-typed forward is not a pooler.
    assert arch("sglang", "0.5.23", "TransformersForCausalLM").task == "generate"


def test_llamacpp_non_causal_generators_are_not_embedding_models() -> None:
    # dream.py / llada.py write add_causal_attention(False) and a pooling type, but also diffusion
    # parameters (add_mask_token_id, add_diffusion_shift_logits): they generate text.
    for name in ("DreamModel", "LLaDAModelLM"):
        assert arch("llamacpp", "0.3.36", name).endpoints == ("CHAT", "COMPLETION")
    # qwen.py's Qwen2Model converter writes a pooling type (for sentence-transformers exports) but keeps
    # causal attention.
    assert arch("llamacpp", "0.3.36", "Qwen2ForCausalLM").endpoints == ("CHAT", "COMPLETION")
    assert arch("llamacpp", "0.3.36", "XLMRobertaModel").endpoints == ("EMBEDDING",)


def test_the_seed_file_of_shipped_facts_is_what_the_importers_read() -> None:
    # releases.json is what the seed records; `make release-facts` rewrites it from sources/.
    read = [
        ShippedFacts(facts(r.engine, r.version), r.artifact_url, r.artifact_sha256)
        for r in shipped_releases()
    ]
    assert FACTS_FILE.read_text("utf-8") == render(read), "run `make release-facts`"
    loaded = load()
    assert [(s.facts.engine, s.facts.version) for s in loaded] == RELEASES
    assert all(s.facts == facts(s.facts.engine, s.facts.version) for s in loaded)


def test_every_upstream_release_a_seed_file_names_is_shipped() -> None:
    named = [
        (engine["slug"], item["version"], item["upstream_release"])
        for engine in records("engines")
        for item in engine["versions"]
        if item.get("upstream_release")
    ] + [
        (item["engine"], item["version"], item["upstream_release"])
        for item in records("engine_builds")
        if item.get("upstream_release")
    ]
    assert ("vllm", "0.8.0", "0.8.0") in named
    # llama.cpp's builds (ggml-org's server images) each package the llama-cpp-python sdist vendoring them
    assert {(v, r) for engine, v, r in named if engine == "llamacpp"} == {
        ("0.3.35", "0.3.35"),
        ("0.3.36", "0.3.36"),
    }
    assert {(engine, release) for engine, _, release in named} <= set(RELEASES)


def test_vllm_rocm_quantization_is_what_its_platform_allows() -> None:
    # vllm/platforms/rocm.py: RocmPlatform.supported_quantization; Platform.verify_quantization refuses
    # any other method on ROCm. No compute capability applies; the dtypes are the method config's.
    rocm = {q.method: q for q in facts("vllm", "0.9.1").quantization if q.device_architecture == "ROCM"}
    assert sorted(rocm) == [
        "awq",
        "compressed-tensors",
        "fbgemm_fp8",
        "fp8",
        "gguf",
        "gptq",
        "ptpc_fp8",
        "quark",
    ]
    fp8 = rocm["fp8"]
    assert (fp8.min_compute_capability, fp8.source.file, fp8.source.symbol) == (
        None,
        "vllm/platforms/rocm.py",
        "RocmPlatform.supported_quantization",
    )
    assert fp8.activation_dtypes == quant("vllm", "0.9.1", "fp8").activation_dtypes
    assert "bitsandbytes" not in rocm  # accepted on CUDA, not listed for ROCm
    assert "bitsandbytes" in {q.method for q in facts("vllm", "0.9.1").quantization}
    # 0.5.0 has no platforms package: nothing is declared for ROCm
    assert {q.device_architecture for q in facts("vllm", "0.5.0").quantization} == {"CUDA"}
