-- The withdrawal state machine's event log, case events, training labels, players' clusters,
-- and the verdict fields of decision schema v2 (composite score, hard stop, reviewer). Fed by
-- sinks/routes.ts; docs/clickhouse.md lists every table.
-- Same rules as 001/002: runs on ClickHouse 18.16 and current ClickHouse, DateTime('UTC') plus a
-- millisecond column, ReplacingMergeTree keyed by the row's identity (count with FINAL),
-- statements idempotent.

-- Decision schema v2's verdict fields, one row per decision. A table beside `decisions` rather
-- than new columns: 18.16 has no ADD COLUMN IF NOT EXISTS, and a migration must be re-runnable.
-- Identity: (withdrawal_id, revision), as in `decisions`.
CREATE TABLE IF NOT EXISTS decision_verdicts
(
    decision_id String,
    withdrawal_id String,
    revision UInt32,
    player_id String,
    outcome String,
    composite_score Nullable(Float64),  -- NULL when a hard stop or a reviewer decided
    hard_stop String,                   -- '' when none
    reviewer_id String,                 -- '' for the engine's own decisions
    review_case_id String,
    review_reason_code String,
    review_event_id String,
    event_time DateTime('UTC'),
    event_time_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (withdrawal_id, revision);

-- One row per withdrawal transition (risk.withdrawal-events.v1). Identity: (withdrawal_id,
-- sequence) = transition_id; a replay re-emits the same transition with the same sequence.
CREATE TABLE IF NOT EXISTS withdrawal_events
(
    transition_id String,
    withdrawal_id String,
    player_id String,
    sequence UInt32,
    from_state String,                  -- NONE for the first transition
    to_state String,
    cause_type String,                  -- WITHDRAWAL_REQUESTED, DECISION, REVIEW, PAYOUT_*, WITHDRAWAL_CANCELLED
    cause_id String,                    -- the input event's eventId, or the decisionId
    event_time DateTime('UTC'),
    event_time_ms Int64,
    attempt UInt32,
    detail String,                      -- '' when none
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (withdrawal_id, sequence);

-- One row per case event (risk.case-events.v1), hash-chained by the case service. Identity:
-- event_id (the relay may publish an event more than once).
CREATE TABLE IF NOT EXISTS case_events
(
    event_id String,
    sequence Int64,                     -- position in the case store's audit chain
    case_id String,
    case_version UInt32,
    type String,
    status String,                      -- the case's status after the event
    subject_kind String,                -- PLAYER or CLUSTER
    subject_id String,
    actor_id String,
    actor_role String,
    occurred_at DateTime('UTC'),
    occurred_at_ms Int64,
    details String,                     -- JSON
    previous_hash String,
    hash String,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(occurred_at)
ORDER BY (case_id, sequence, event_id);

-- One row per training label (risk.labels.v1), emitted when a case closes. Identity: label_id.
CREATE TABLE IF NOT EXISTS labels
(
    label_id String,
    case_id String,
    player_id String,
    typology String,
    outcome String,                     -- TRUE_POSITIVE | FALSE_POSITIVE
    resolution String,                  -- DISMISSED | RESTRICTED | STR_FILED
    alert_ids Array(String),
    incident_ids Array(String),
    decision_ids Array(String),
    first_alert_time_ms Int64,
    last_alert_time_ms Int64,
    closed_at DateTime('UTC'),
    closed_at_ms Int64,
    closed_by String,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(closed_at)
ORDER BY label_id;

-- One row per cluster record (risk.clusters.v1) the graph worker published. Identity:
-- (player_id, sequence): the worker re-publishes the same sequence with the same content after a
-- crash. The latest cluster of a player: argMax(..., sequence) per player_id.
CREATE TABLE IF NOT EXISTS player_clusters
(
    player_id String,
    sequence Int64,
    event_id String,
    erased UInt8,                       -- 1: the player left the graph (tombstone)
    cluster_id String,                  -- '' when erased
    size UInt32,
    community_id String,
    community_size UInt32,
    risk Float64,                       -- in [0, 1]
    typologies Array(String),
    shared_identifiers Array(String),   -- 'type:identifier', at most 20 (shared_identifier_count has the total)
    shared_identifier_count UInt32,
    event_time DateTime('UTC'),
    event_time_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (player_id, sequence);
