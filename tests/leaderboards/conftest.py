"""The real arq worker fixtures of the job tests, for the leaderboard refresh job."""

from tests.jobs.conftest import hub, job_settings, run_worker, tiny_llama

__all__ = ["hub", "job_settings", "run_worker", "tiny_llama"]
