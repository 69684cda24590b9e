"""The playground HTML page: GraphiQL, React and ReactDOM loaded only from our own static mount.

Nothing in the page points off the origin: the assets are relative URLs under :data:`ASSETS_MOUNT`, the
GraphiQL fetcher POSTs to the GraphQL endpoint of the same origin, and :data:`CONTENT_SECURITY_POLICY`
(sent with the page) makes the browser refuse any other origin should a vendored bundle ever try one.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Final

ASSETS_MOUNT: Final = "/playground-assets"
"""Where the app mounts the static assets (see ``budgraph.app``)."""

STATIC_PACKAGE: Final = ("budgraph.playground", "static")
"""The (package, directory) that holds the vendored assets, for ``StaticFiles(packages=[...])``."""

SCRIPTS: Final = (
    "react/react.production.min.js",
    "react-dom/react-dom.production.min.js",
    "graphiql/graphiql.min.js",
)
"""Scripts in load order, relative to the static directory (see ``static/ASSETS.md``)."""

STYLESHEETS: Final = ("graphiql/graphiql.min.css",)

DEFAULT_QUERY: Final = """\
# budgraph GraphQL playground
#
# To send an API key, open "Headers" below and enter
#   {"Authorization": "Bearer <api key>"}
# (headers stay in this tab, they are never saved).
#
# Run a query with Ctrl-Enter or the run button.

{
  registryVersion
}
"""

# Constant, so that its hash can be allowed by the Content-Security-Policy; per-request values are
# passed in the JSON block `#budgraph-playground-config`, which the browser never executes.
_BOOTSTRAP: Final = """
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("budgraph-playground-config").textContent);
  var fetcher = GraphiQL.createFetcher({ url: new URL(config.endpoint, window.location.href).href });
  ReactDOM.createRoot(document.getElementById("graphiql")).render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      defaultQuery: config.defaultQuery,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: false
    })
  );
})();
"""

_STYLE: Final = "html, body, #graphiql { height: 100%; margin: 0; overflow: hidden; }"


def _csp_hash(source: str) -> str:
    digest = hashlib.sha256(source.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


CONTENT_SECURITY_POLICY: Final = "; ".join(
    [
        "default-src 'none'",
        f"script-src 'self' {_csp_hash(_BOOTSTRAP)}",
        "style-src 'self' 'unsafe-inline'",
        "font-src 'self' data:",
        "img-src 'self' data:",
        "connect-src 'self'",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
    ]
)
"""Only this origin (plus the ``data:`` fonts inlined in GraphiQL's CSS) may be loaded or contacted."""


def _json_for_script(value: object) -> str:
    """JSON that cannot end the ``<script>`` element it is embedded in."""
    text = json.dumps(value, ensure_ascii=True)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_playground(endpoint: str = "/graphql") -> str:
    """The playground page for the GraphQL endpoint at path ``endpoint`` of the page's own origin.

    Asset URLs are relative to the page, so they resolve under :data:`ASSETS_MOUNT` next to the endpoint
    (also behind a reverse proxy that adds a path prefix).
    """
    if not endpoint.startswith("/") or endpoint.startswith("//"):
        raise ValueError(f"the endpoint must be a path on this origin, not {endpoint!r}")
    base = ASSETS_MOUNT.lstrip("/")
    stylesheets = "\n".join(
        f'    <link rel="stylesheet" href="{html.escape(f"{base}/{path}")}">' for path in STYLESHEETS
    )
    scripts = "\n".join(f'    <script src="{html.escape(f"{base}/{path}")}"></script>' for path in SCRIPTS)
    config = _json_for_script({"endpoint": endpoint, "defaultQuery": DEFAULT_QUERY})
    return f"""<!DOCTYPE html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="robots" content="noindex">
    <title>budgraph GraphQL playground</title>
    <link rel="icon" href="data:,">
{stylesheets}
    <style>{_STYLE}</style>
  </head>
  <body>
    <div id="graphiql">Loading the playground…</div>
    <script id="budgraph-playground-config" type="application/json">{config}</script>
{scripts}
    <script>{_BOOTSTRAP}</script>
  </body>
</html>
"""
