"""The floor's SQL: one hand-written statement per scenario, answering what budgraph answers.

Orders are budgraph's (versions by engine, then highest version key, device, id descending;
models by uri; entries by their stored position, ties by name), and the JSON of
nested lists is built by PostgreSQL, so the floor's Python only wraps rows.
"""

from __future__ import annotations

# Versions in budgraph's default order (engine, highest version first).
_VERSION_ORDER = "v.engine_id, v.version_key DESC, v.device_architecture, v.id DESC"
# The latest snapshot of each leaderboard source; older ones are history.
_CURRENT = """current_snapshot AS (
  SELECT DISTINCT ON (source_id) id FROM leaderboard_snapshot ORDER BY source_id, fetched_at DESC, id DESC)"""

RUNTIME_SLICE = f"""
WITH arch AS (SELECT * FROM model_architecture WHERE class_name = $1),
rules AS (
  SELECT engine_id, json_agg(json_build_array(id, rule_type, parser, match_type, pattern, priority, chat_template)) AS rules
  FROM parser_rule WHERE enabled GROUP BY engine_id)
SELECT v.version, v.container_image, v.tool_call_parsers, v.reasoning_parsers, e.slug,
       arch.supports_lora, arch.supports_pipeline_parallelism,
       arch.default_tool_call_parser, arch.default_reasoning_parser, coalesce(rules.rules, '[]') AS rules
FROM arch
JOIN compatibility_edge c ON c.architecture_id = arch.id
JOIN engine_version v ON v.id = c.engine_version_id
JOIN engine e ON e.id = v.engine_id
LEFT JOIN rules ON rules.engine_id = v.engine_id
WHERE v.device_architecture = $2 AND v.status = 'active'
ORDER BY {_VERSION_ORDER}
LIMIT 20
"""

# A final release before any newer pre-release (as pip chooses): the key's pre and dev sections
# (kit/versions.py) are `9` exactly for final releases.
LATEST = """
SELECT v.version, v.container_image FROM engine e
JOIN LATERAL (
  SELECT version, container_image FROM engine_version v
  WHERE v.engine_id = e.id AND v.status = 'active' AND v.device_architecture = $2
  ORDER BY (split_part(v.version_key, '.', 10) = '9' AND split_part(v.version_key, '.', 12) = '9') DESC,
           v.version_key DESC, v.id DESC
  LIMIT 1) v ON true
WHERE e.slug = $1
"""

CHANGES = """
SELECT s.version AS current, c.id, c.registry_version, c.entity_kind, c.entity_id, c.operation,
       c.changed_fields, c.actor
FROM registry_state s
LEFT JOIN LATERAL (
  SELECT * FROM change_log WHERE registry_version > $1 ORDER BY registry_version, id LIMIT $2) c ON true
ORDER BY c.registry_version, c.id
"""

_THREE_VERSIONS = f"""
SELECT json_agg(json_build_object('version', x.version, 'containerImage', x.container_image,
                                  'engine', json_build_object('slug', x.slug)) ORDER BY x.n) AS nodes
FROM (SELECT v.version, v.container_image, e.slug, row_number() OVER (ORDER BY {_VERSION_ORDER}) AS n
      FROM compatibility_edge c JOIN engine_version v ON v.id = c.engine_version_id
      JOIN engine e ON e.id = v.engine_id
      WHERE c.architecture_id = a.id ORDER BY {_VERSION_ORDER} LIMIT 3) x
"""

DASHBOARD = f"""
WITH page AS (SELECT id, uri, license_id, architecture FROM model ORDER BY uri, id LIMIT $1)
SELECT p.uri, l.key AS license_key, l.name AS license_name, a.class_name,
       coalesce(versions.nodes, '[]') AS versions, (SELECT count(*) FROM model) AS total
FROM page p
LEFT JOIN license l ON l.id = p.license_id
LEFT JOIN model_architecture a ON a.class_name = p.architecture
LEFT JOIN LATERAL ({_THREE_VERSIONS}) versions ON true
ORDER BY p.uri, p.id
"""

# The stored standings (written with each snapshot, as budgraph and PostGraphile both read them):
# position and the board's size (ranked_among: every benchmark of the bench data has one source, so
# its entries are one snapshot's), in budgraph's order (position, then raw name, then id).
LEADERBOARD = f"""
WITH {_CURRENT},
b AS (SELECT id FROM benchmark WHERE key = $1)
SELECT e.score, e.rank, e.position, e.raw_model_name, e.ranked_among AS total, m.uri, l.key AS license_key
FROM b JOIN leaderboard_entry e ON e.benchmark_id = b.id
JOIN current_snapshot s ON s.id = e.snapshot_id
LEFT JOIN model m ON m.id = e.model_id LEFT JOIN license l ON l.id = m.license_id
ORDER BY e.position, e.raw_model_name, e.id
LIMIT $2
"""

# Hub ids compare case-insensitively (the unique index on lower(uri) of Hub models).
MODEL = f"""
WITH {_CURRENT}
SELECT m.uri, m.parameter_count, m.context_length, m.fact_sources,
  (SELECT json_build_object('key', l.key, 'name', l.name, 'kind', upper(l.kind),
                            'commercialUse', l.commercial_use)
   FROM license l WHERE l.id = m.license_id) AS license,
  (SELECT json_build_object('className', a.class_name, 'family', a.family, 'engineVersions',
     json_build_object('nodes', coalesce((
       SELECT json_agg(json_build_object('version', x.version,
                                         'engine', json_build_object('slug', x.slug, 'name', x.name)) ORDER BY x.n)
       FROM (SELECT v.version, e.slug, e.name, row_number() OVER (ORDER BY {_VERSION_ORDER}) AS n
             FROM compatibility_edge c JOIN engine_version v ON v.id = c.engine_version_id
             JOIN engine e ON e.id = v.engine_id
             WHERE c.architecture_id = a.id ORDER BY {_VERSION_ORDER} LIMIT 20) x), '[]')))
   FROM model_architecture a WHERE a.class_name = m.architecture) AS architecture,
  (SELECT coalesce(json_agg(json_build_object('path', f.path, 'size', f.size, 'sha256', f.sha256)
                            ORDER BY f.path, f.id), '[]')
   FROM (SELECT * FROM model_file WHERE model_id = m.id AND revision = m.revision
         ORDER BY path, id LIMIT 50) f) AS files,
  (SELECT coalesce(json_agg(json_build_object('kind', upper(j.kind), 'status', upper(j.status)) ORDER BY j.id DESC), '[]')
   FROM (SELECT * FROM job WHERE model_id = m.id ORDER BY id DESC LIMIT 10) j) AS jobs,
  (SELECT coalesce(json_agg(json_build_object('scanner', r.scanner, 'path', r.path, 'status', r.status)
                            ORDER BY r.worst, r.path, r.scanner, r.id), '[]')
   FROM (SELECT *, CASE status WHEN 'FINDING' THEN 0 WHEN 'ERROR' THEN 1 WHEN 'NOT_SCANNED' THEN 2 ELSE 3 END AS worst
         FROM scan_result WHERE model_id = m.id
           AND job_id = (SELECT max(job_id) FROM scan_result WHERE model_id = m.id)
         ORDER BY worst, path, scanner, id LIMIT 50) r) AS scans,
  (SELECT coalesce(json_agg(json_build_object('score', trim_scale(best.score)::text, 'benchmark',
                            json_build_object('key', best.key, 'name', best.name)) ORDER BY best.key), '[]')
   FROM (SELECT DISTINCT ON (e.benchmark_id) e.score, b.key, b.name
         FROM leaderboard_entry e JOIN current_snapshot s ON s.id = e.snapshot_id
         JOIN benchmark b ON b.id = e.benchmark_id
         WHERE e.model_id = m.id
         ORDER BY e.benchmark_id, CASE WHEN b.higher_is_better THEN e.score ELSE -e.score END DESC,
                  e.raw_model_name, e.id) best) AS scores
FROM model m
WHERE m.source_kind = 'huggingface' AND lower(m.uri) = lower($1)
"""
