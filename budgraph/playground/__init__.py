"""The GraphQL playground: GraphiQL served from this package's own static assets, never from a CDN.

The page (:func:`render_playground`) references only relative URLs under :data:`ASSETS_MOUNT`, where the
app mounts :data:`STATIC_PACKAGE`, so the playground works on an air-gapped network.
"""

from __future__ import annotations

from budgraph.playground.page import (
    ASSETS_MOUNT,
    CONTENT_SECURITY_POLICY,
    SCRIPTS,
    STATIC_PACKAGE,
    STYLESHEETS,
    render_playground,
)

__all__ = [
    "ASSETS_MOUNT",
    "CONTENT_SECURITY_POLICY",
    "SCRIPTS",
    "STATIC_PACKAGE",
    "STYLESHEETS",
    "render_playground",
]
