"""Every leaderboard source, by key."""

from __future__ import annotations

from budgraph.leaderboards.sources.alpaca_eval import AlpacaEval
from budgraph.leaderboards.sources.artificial_analysis import ArtificialAnalysis
from budgraph.leaderboards.sources.base import LeaderboardSource
from budgraph.leaderboards.sources.bfcl import BerkeleyFunctionCalling
from budgraph.leaderboards.sources.livebench import LiveBench
from budgraph.leaderboards.sources.lmarena import LmArena
from budgraph.leaderboards.sources.mteb import Mteb
from budgraph.leaderboards.sources.open_llm_leaderboard import OpenLlmLeaderboard

SOURCES: dict[str, LeaderboardSource] = {
    source.key: source
    for source in (
        OpenLlmLeaderboard(),
        LmArena(),
        BerkeleyFunctionCalling(),
        Mteb(),
        AlpacaEval(),
        LiveBench(),
        ArtificialAnalysis(),
    )
}
