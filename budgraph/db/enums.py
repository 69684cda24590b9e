"""The closed vocabularies stored in the database (also exposed as GraphQL enums)."""

from enum import StrEnum


class DeviceArchitecture(StrEnum):
    CUDA = "CUDA"
    ROCM = "ROCM"
    CPU = "CPU"
    HPU = "HPU"


class EngineVersionStatus(StrEnum):
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    YANKED = "yanked"


class Endpoint(StrEnum):
    CHAT = "CHAT"
    COMPLETION = "COMPLETION"
    EMBEDDING = "EMBEDDING"
    CLASSIFY = "CLASSIFY"
    RERANK = "RERANK"
    TRANSCRIPTION = "TRANSCRIPTION"
    RESPONSES = "RESPONSES"


class ArchitectureTask(StrEnum):
    """What an upstream release serves an architecture for."""

    GENERATE = "generate"
    MULTIMODAL = "multimodal"
    EMBEDDING = "embedding"
    CROSS_ENCODER = "cross-encoder"
    TRANSCRIPTION = "transcription"
    LATE_INTERACTION = "late-interaction"
    CLASSIFICATION = "classification"
    REWARD = "reward"
    TOKEN_CLASSIFICATION = "token-classification"


class ParserRuleType(StrEnum):
    TOOL = "tool"
    REASONING = "reasoning"


class MatchType(StrEnum):
    EXACT = "exact"
    PREFIX = "prefix"
    REGEX = "regex"


class ModelSource(StrEnum):
    HUGGINGFACE = "huggingface"
    URL = "url"
    UPLOAD = "upload"
    CLOUD = "cloud"


class Modality(StrEnum):
    TEXT = "text"
    VISION_LANGUAGE = "vision-language"
    AUDIO = "audio"
    EMBEDDING = "embedding"
    CLASSIFICATION = "classification"
    IMAGE_GENERATION = "image-generation"


class ModelStatus(StrEnum):
    REGISTERED = "registered"
    READY = "ready"
    FAILED = "failed"
    ARCHIVED = "archived"


class LicenseKind(StrEnum):
    PERMISSIVE = "permissive"
    COPYLEFT = "copyleft"
    RESTRICTED = "restricted"
    PROPRIETARY = "proprietary"


class ProviderKind(StrEnum):
    MODEL_API = "model_api"
    GATEWAY = "gateway"
    COMPUTE_CLOUD = "compute_cloud"


class ProviderModelMode(StrEnum):
    CHAT = "chat"
    COMPLETION = "completion"
    EMBEDDING = "embedding"
    RESPONSES = "responses"
    RERANK = "rerank"
    MODERATION = "moderation"


class ChangeOperation(StrEnum):
    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"


class ApiKeyScope(StrEnum):
    READ = "read"
    WRITE = "write"
    ADMIN = "admin"


class JobKind(StrEnum):
    EXTRACT = "extract"
    SCAN = "scan"
    LEADERBOARD_REFRESH = "leaderboard_refresh"


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.QUEUED, JobStatus.RUNNING)


class ScanStatus(StrEnum):
    """The summary of a model's last security scan."""

    CLEAN = "CLEAN"
    UNSAFE = "UNSAFE"
    ERROR = "ERROR"


class Severity(StrEnum):
    LOW = "LOW"
    MEDIUM = "MEDIUM"
    HIGH = "HIGH"
    CRITICAL = "CRITICAL"


class FileScanStatus(StrEnum):
    CLEAN = "CLEAN"
    FINDING = "FINDING"
    NOT_SCANNED = "NOT_SCANNED"
    ERROR = "ERROR"


class SourceRunStatus(StrEnum):
    """How a leaderboard source's last refresh went."""

    SUCCEEDED = "succeeded"
    UNCHANGED = "unchanged"
    FAILED = "failed"
