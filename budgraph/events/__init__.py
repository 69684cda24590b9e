"""Registry events: every committed change published through Dapr pub/sub, from the change log.

The change log is the outbox. ``record_changes`` writes its rows in the transaction of the write,
so a change that committed is never lost, and the publisher sends each row after commit, in
change-log order, and marks it (``change_publication``). Delivery is at least once: a crash
between a publish and its mark publishes that change again, with the same ``changeId``.
"""
