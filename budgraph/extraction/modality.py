"""What kind of model it is (``budgraph.db.enums.Modality``), from its architectures, config and card.

Order matters: a classification head wins (a reranker is a BertForSequenceClassification even in a
sentence-transformers repo), then audio, then vision-language, then embedding signals, then the card's
pipeline tag; a model with none of these is a text model.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from budgraph.db.enums import Modality

CLASSIFICATION_SUFFIXES = (
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForImageClassification",
    "ForAudioClassification",
    "ForMultipleChoice",
)
AUDIO_MODEL_TYPES = frozenset(
    {"whisper", "wav2vec2", "wav2vec2-conformer", "hubert", "wavlm", "seamless_m4t", "seamless_m4t_v2"}
    | {"speecht5", "qwen2_audio", "musicgen", "voxtral", "moonshine", "data2vec-audio", "speech_to_text"}
    | {"granite_speech", "unispeech", "unispeech-sat", "sew", "sew-d", "clap", "encodec", "dia", "csm"}
)
AUDIO_ARCHITECTURE = re.compile(r"Speech|Audio|CTC|Whisper|Wav2Vec")
VISION_LANGUAGE_ARCHITECTURE = re.compile(r"ForVision2Seq|ForImageTextToText|Llava|VLForConditional|Vision")
SENTENCE_TRANSFORMERS_FILES = frozenset({"modules.json", "config_sentence_transformers.json"})
PIPELINE_MODALITY = {
    "image-text-to-text": Modality.VISION_LANGUAGE,
    "visual-question-answering": Modality.VISION_LANGUAGE,
    "image-to-text": Modality.VISION_LANGUAGE,
    "video-text-to-text": Modality.VISION_LANGUAGE,
    "automatic-speech-recognition": Modality.AUDIO,
    "text-to-speech": Modality.AUDIO,
    "text-to-audio": Modality.AUDIO,
    "audio-classification": Modality.CLASSIFICATION,
    "text-classification": Modality.CLASSIFICATION,
    "token-classification": Modality.CLASSIFICATION,
    "zero-shot-classification": Modality.CLASSIFICATION,
    "text-ranking": Modality.CLASSIFICATION,
    "feature-extraction": Modality.EMBEDDING,
    "sentence-similarity": Modality.EMBEDDING,
    "text-to-image": Modality.IMAGE_GENERATION,
}


@dataclass(frozen=True)
class ModalitySignals:
    architectures: list[str]
    model_type: str | None
    has_vision_config: bool
    has_audio_config: bool
    library_name: str | None
    pipeline_tag: str | None
    file_names: frozenset[str]


def infer_modality(signals: ModalitySignals) -> tuple[Modality, str]:
    """The modality and the reason (used as its provenance)."""
    archs = signals.architectures
    listed = f"config.json:architectures ({', '.join(archs)})" if archs else "config.json:architectures"
    if any(a.endswith(CLASSIFICATION_SUFFIXES) for a in archs):
        return Modality.CLASSIFICATION, listed
    if signals.model_type in AUDIO_MODEL_TYPES:
        return Modality.AUDIO, f"config.json:model_type ({signals.model_type})"
    if any(AUDIO_ARCHITECTURE.search(a) for a in archs) or (
        signals.has_audio_config and not signals.has_vision_config
    ):
        return Modality.AUDIO, listed
    if signals.has_vision_config:
        return Modality.VISION_LANGUAGE, f"{listed} + vision_config"
    if any(VISION_LANGUAGE_ARCHITECTURE.search(a) for a in archs):
        return Modality.VISION_LANGUAGE, listed
    st_files = sorted(signals.file_names & SENTENCE_TRANSFORMERS_FILES)
    if signals.library_name == "sentence-transformers" or st_files:
        evidence = ", ".join(st_files) or "README.md front matter:library_name"
        return Modality.EMBEDDING, f"sentence-transformers ({evidence})"
    if signals.pipeline_tag in ("feature-extraction", "sentence-similarity"):
        return Modality.EMBEDDING, "README.md front matter:pipeline_tag"
    if archs and all(a.endswith("Model") and not a.endswith("LMHeadModel") for a in archs):
        return Modality.EMBEDDING, f"{listed}: a bare encoder without a head"
    if signals.pipeline_tag in PIPELINE_MODALITY:
        return PIPELINE_MODALITY[signals.pipeline_tag], "README.md front matter:pipeline_tag"
    return Modality.TEXT, listed if archs else "default (no architecture stated)"


def is_encoder_only(architectures: list[str], modality: Modality) -> bool:
    """True for encoders (BERT-style embedding and classification models), which keep no KV cache."""
    decoder = re.compile(r"CausalLM|LMHeadModel|ConditionalGeneration|Seq2Seq")
    encoder_kind = modality in (Modality.EMBEDDING, Modality.CLASSIFICATION)
    return encoder_kind and not any(decoder.search(a) for a in architectures)
