-- Decisions and dead letters.
-- Runs on ClickHouse 18.16 (development) and current ClickHouse (production): new-style
-- MergeTree syntax, no TTL/CODEC/LowCardinality, DateTime plus a millisecond column.
-- DateTime('UTC') makes text in and out of these columns UTC whatever the server's time zone.
-- Statements are idempotent (IF NOT EXISTS): a migration interrupted part-way is re-run whole.

-- One row per decision, deduplicated by (withdrawal_id, revision): a replay after a crash
-- re-inserts identical rows, and merges keep one (the latest inserted_at). Merges happen in the
-- background, so queries that count or must see one row per decision read with FINAL.
-- The partition key is a function of the decision, so duplicates always share a partition.
CREATE TABLE IF NOT EXISTS decisions
(
    decision_id String,                 -- withdrawal_id plus revision: the same input gives the same id
    withdrawal_id String,
    revision UInt32,
    player_id String,
    outcome String,
    player_reason_code String,
    reasons Array(String),
    actions Array(String),
    amount_minor Int64,                 -- in minor units of currency (cents); never a float
    currency String,
    jurisdiction String,
    tier String,
    event_time DateTime('UTC'),         -- event time in whole seconds (partitioning, time filters)
    event_time_ms Int64,                -- the same instant in epoch milliseconds
    rule_set_version String,
    -- One entry per detector execution, the four arrays index-aligned.
    executions_detector Array(String),  -- 'id@version'
    executions_status Array(String),    -- hit | no_hit | error
    executions_value Array(Float64),
    executions_threshold Array(Float64),
    model_id String,
    model_version String,
    score Float64,
    cluster_id String,
    source_topic String,
    source_partition UInt32,
    source_offset Int64,                -- offset of the withdrawal record that produced the decision
    latency_ms Float64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (withdrawal_id, revision);

-- Input that could not be processed, one row per source record (dlq_id = topic:partition:offset),
-- so re-routing the same record after a restart does not double it.
CREATE TABLE IF NOT EXISTS dead_letters
(
    dlq_id String,
    source_topic String,
    source_partition UInt32,
    source_offset Int64,
    reason String,                      -- RISK_ERR_* code
    message String,                     -- one-line explanation
    payload_base64 String,
    event_time DateTime('UTC'),         -- the source record's timestamp
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY dlq_id;
