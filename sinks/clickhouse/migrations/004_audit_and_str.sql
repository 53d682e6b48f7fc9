-- The API's audit log and the STR reports exported from it (issue 6, item 5). Fed by
-- sinks/routes.ts from risk.audit.v1, which api/audit-relay.ts publishes from the audit file;
-- docs/clickhouse.md lists every table.
-- Same rules as 001-003: runs on ClickHouse 18.16 and current ClickHouse, DateTime('UTC') plus a
-- millisecond column, ReplacingMergeTree keyed by the row's identity (count with FINAL),
-- statements idempotent. JSON is kept as String (18.16 has no JSON type).

-- One row per audit entry. Identity: (sequence, hash): the relay re-publishes at most its last
-- unacknowledged batch after a crash, with the same hashes; the hash also tells apart two API
-- processes' files, whose sequences both start at 1. The file stays the evidence:
-- api/audit-verify.ts checks its chain.
CREATE TABLE IF NOT EXISTS audit_log
(
    sequence Int64,                     -- line number in the audit file, from 1
    hash String,                        -- hex SHA-256 of previous_hash + the entry's canonical JSON
    previous_hash String,
    recorded_at DateTime('UTC'),
    recorded_at_ms Int64,
    actor String,                       -- the token's subject, or 'anonymous'
    roles Array(String),
    token_id Nullable(String),
    action String,                      -- e.g. case.read, str.export
    entity_type String,                 -- e.g. case, player, str_draft
    entity_id Nullable(String),         -- NULL for actions on a collection
    before_json Nullable(String),       -- canonical JSON; NULL when the entry has none
    after_json Nullable(String),
    detail_json Nullable(String),
    request_json Nullable(String),      -- method, route, requestId, ip
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(recorded_at)
ORDER BY (sequence, hash);

-- One row per STR export (audit action str.export of POST /str/:draftId/export): the file the
-- FIU received. Identity: (draft_id, audit_hash), one export's audit entry; a draft exported
-- twice has two rows.
CREATE TABLE IF NOT EXISTS str_reports
(
    draft_id String,
    case_id String,                     -- '' for entries written before the route recorded it
    file_name String,
    sha256 String,                      -- hex SHA-256 of the exported file's bytes
    exported_by String,
    exported_at DateTime('UTC'),
    exported_at_ms Int64,
    audit_sequence Int64,
    audit_hash String,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(exported_at)
ORDER BY (draft_id, audit_hash);
