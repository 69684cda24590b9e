"""Credit leases: a busy caller's charges spent in this process, without a round trip each.

    leases = CreditLeases()
    leases.start_window(window.index)
    spent = leases.spend(key, cost, budget)   # the counter's effective use, or None: ask Redis

A caller charged a second time in the same window asks Redis, with that charge, for credit beyond
its cost: a hundredth of its budget (never less than the cost, else nothing is asked). Redis counts
the credit as spent at once, in the same script that checks the budget, so no process can spend it
twice. This process spends it locally until it runs out; the charge that then goes to Redis hands
back what was left (it charges only the rest of its cost) and asks for more.

Within one process every answer is exact: what is left is the budget less what was charged. Across
processes the credit one holds counts as spent for the others, so a caller spread over several can
be refused up to a hundredth of its budget per other process early; the credit lapses with its
window. A budget too small to spare a hundredth for one request never leases, and a caller seen
once is never leased to.
"""

from __future__ import annotations

from dataclasses import dataclass

# The share of a budget one lease takes.
LEASE_SHARE = 100

# Callers remembered per window; more are charged in Redis each time, as without leases.
CAPACITY = 50_000


@dataclass
class Lease:
    """What this process holds of one caller's window."""

    limit: int  # the budget the credit was granted under (an admin may change a key's)
    used: int  # the window's counter as Redis last answered it (this process's credit included)
    credit: int = 0  # granted and not spent yet
    asking: bool = False  # a charge asking for credit is on its way

    def effective_used(self) -> int:
        return self.used - self.credit


class CreditLeases:
    """The leases of one process, for the current window only."""

    def __init__(self, *, share: int = LEASE_SHARE, capacity: int = CAPACITY) -> None:
        self._share = share
        self._capacity = capacity
        self._window: int | None = None
        self._leases: dict[str, Lease] = {}

    def start_window(self, index: int) -> None:
        """Forget every lease of an earlier window (their counters are gone with it)."""
        if index != self._window:
            self._window = index
            self._leases.clear()

    def spend(self, key: str, cost: int, limit: int) -> int | None:
        """Spend ``cost`` from the credit held for ``key``: the counter's effective use after it,
        or ``None`` when the credit does not cover it (the charge goes to Redis)."""
        lease = self._leases.get(key)
        if lease is None or lease.limit != limit or lease.credit < cost:
            return None
        lease.credit -= cost
        return lease.effective_used()

    def take(self, key: str, cost: int, limit: int) -> tuple[int, int]:
        """Before a charge goes to Redis: (credit handed back, credit to ask for).

        The handed-back credit is taken off the lease; ``settle`` or ``restore`` accounts for it."""
        lease = self._leases.get(key)
        if lease is None:
            return 0, 0
        if lease.limit != limit:  # a changed budget: what was held under the old one lapses
            del self._leases[key]
            return 0, 0
        handed_back = min(lease.credit, cost)
        lease.credit -= handed_back
        extra = limit // self._share
        if lease.asking or extra < max(cost, 1):
            return handed_back, 0
        lease.asking = True
        return handed_back, extra

    def settle(
        self, key: str, limit: int, *, charged: bool, used: int, granted: int, handed_back: int, asked: int
    ) -> int:
        """Record Redis's answer to a charge: the counter's effective use for this process."""
        lease = self._leases.get(key)
        if lease is None or lease.limit != limit:
            if len(self._leases) >= self._capacity:
                return used - (0 if charged else handed_back)
            lease = self._leases[key] = Lease(limit=limit, used=used)
            if not charged:
                lease.credit = handed_back
            return lease.effective_used()
        if asked:
            lease.asking = False
        lease.used = max(lease.used, used)
        lease.credit += granted if charged else handed_back
        return lease.effective_used()

    def restore(self, key: str, handed_back: int, asked: int) -> None:
        """Redis could not be asked: the credit handed back is this process's again."""
        lease = self._leases.get(key)
        if lease is None:
            return
        lease.credit += handed_back
        if asked:
            lease.asking = False
