-- Every input event, each decision's detector executions and model scores, alerts, payout and
-- ledger commands (issue 6, item 5). Fed by sinks/routes.ts; docs/clickhouse.md lists every table.
-- Same rules as 001: runs on ClickHouse 18.16 and current ClickHouse (no TTL/CODEC/
-- LowCardinality/JSON/DateTime64, no Nullable inside arrays), DateTime('UTC') plus a
-- millisecond column, statements idempotent (IF NOT EXISTS).
--
-- Every table is a ReplacingMergeTree whose ORDER BY is the row's identity: a replay after a
-- crash or an outage re-inserts identical rows, and merges keep one per key (the latest
-- inserted_at). Merges run in the background: count with FINAL. A table's partition key is a
-- function of the identity, so copies of a row always land in the same partition (merges never
-- collapse rows across partitions).

-- One row per record read from the six casino input topics (players, devices, deposits,
-- transfers, bets, withdrawals).
-- Identity: (topic, partition, offset), the Kafka record. Not event_id: the operator may send
-- one event twice (a retry on its side), and the engine reads both copies at different offsets;
-- keying by event_id would hide the second copy the engine saw, while keeping event_id as a
-- column lets `count() - uniqExact(event_id)` show the operator's repeats.
-- The sort key starts with player_id for player timelines; player_id is fixed by the record at
-- (topic, partition, offset), so the key still identifies exactly one record.
CREATE TABLE IF NOT EXISTS events
(
    topic String,                       -- as named on the broker, with the deployment prefix (joins decisions.source_topic)
    partition UInt32,
    offset Int64,
    event_id String,                    -- the operator's eventId
    player_id String,
    event_time DateTime('UTC'),         -- event time in whole seconds, clamped to DateTime's range
    event_time_ms Int64,                -- the same instant in epoch milliseconds, exact
    type String,                        -- players/devices/bets/withdrawals: type; deposits: status; transfers: kind
    amount_minor Int64,                 -- deposits/transfers/withdrawals: amountMinor; bets: stakeMinor; 0 otherwise
    currency String,                    -- ISO 4217 where there is an amount; '' otherwise
    payload String,                     -- the whole decoded record as JSON (bytes as hex, as in schemas/fixtures)
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (player_id, topic, partition, offset);

-- One row per detector execution of each decision (the decision's `executions`, in rule-set
-- order). Identity: (withdrawal_id, revision, execution_index): a decision is deterministic, so
-- a re-emitted or re-read decision lists the same executions in the same order.
CREATE TABLE IF NOT EXISTS rule_executions
(
    decision_id String,
    withdrawal_id String,
    revision UInt32,
    execution_index UInt32,             -- position in the decision's executions, from 0
    player_id String,
    detector_id String,
    detector_version UInt32,
    status String,                      -- hit | no_hit | error
    value Nullable(Float64),            -- NULL when the detector has no value
    threshold Nullable(Float64),
    detail Nullable(String),            -- short explanation or the error message
    rule_set_version String,
    event_time DateTime('UTC'),         -- the withdrawal's event time (as in decisions)
    event_time_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (withdrawal_id, revision, execution_index);

-- One row per model that scored a decision: the champion (the decision's `model`) and each
-- shadow (the decision's `shadows`). Identity: (withdrawal_id, revision, role, model_id,
-- model_version).
CREATE TABLE IF NOT EXISTS model_scores
(
    decision_id String,
    withdrawal_id String,
    revision UInt32,
    player_id String,
    model_id String,
    model_version String,
    role String,                        -- champion | shadow
    score Float64,                      -- in [0, 1], higher is riskier
    cutoff Nullable(Float64),           -- the model's calibrated cut-off when the decision carries it
    -- Top feature contributions, the two arrays index-aligned, largest magnitude first.
    contributions_feature Array(String),
    contributions_value Array(Float64),
    event_time DateTime('UTC'),
    event_time_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (withdrawal_id, revision, role, model_id, model_version);

-- One row per alert on risk.alerts.v1. Identity: alert_id (the same input yields the same id).
-- The sort key starts with player_id, fixed by the alert, for per-player queries.
CREATE TABLE IF NOT EXISTS alerts
(
    alert_id String,
    player_id String,
    detector_id String,
    detector_version UInt32,
    severity String,                    -- LOW | MEDIUM | HIGH | CRITICAL
    action String,                      -- what the rule set asks the officer to do
    event_time DateTime('UTC'),         -- event time of the triggering event
    event_time_ms Int64,
    value Nullable(Float64),
    threshold Nullable(Float64),
    window_start_ms Nullable(Int64),    -- inclusive; NULL for unwindowed detectors
    window_end_ms Nullable(Int64),      -- exclusive
    evidence_event_ids Array(String),   -- oldest first; join events.event_id
    rule_set_version String,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
PARTITION BY toYYYYMM(event_time)
ORDER BY (player_id, alert_id);

-- One row per payout command on payout.commands.v1. Identity: idempotency_key
-- (wd:{withdrawalId}:{operation}:{attempt}), what the payout service de-duplicates by, so the
-- table holds what it would act on. A command carries no event time, and its Kafka timestamp
-- differs between re-emissions, so the table is not partitioned: copies always meet in a merge.
CREATE TABLE IF NOT EXISTS payout_commands
(
    command_id String,
    idempotency_key String,
    withdrawal_id String,
    player_id String,
    operation String,                   -- PAY (UNKNOWN: an operation from a newer writer)
    attempt UInt32,
    amount_minor Int64,
    currency String,
    method String,
    instrument_token String,
    decision_id String,
    emitted_at DateTime('UTC'),         -- the Kafka record's timestamp (when the engine wrote it)
    emitted_at_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY idempotency_key;

-- One row per ledger command on ledger.commands.v1. Identity: idempotency_key, as above.
CREATE TABLE IF NOT EXISTS ledger_commands
(
    command_id String,
    idempotency_key String,
    withdrawal_id String,
    player_id String,
    operation String,                   -- HOLD | RELEASE | REVERSE (UNKNOWN: from a newer writer)
    amount_minor Int64,
    currency String,
    decision_id String,
    emitted_at DateTime('UTC'),
    emitted_at_ms Int64,
    inserted_at DateTime('UTC')
)
ENGINE = ReplacingMergeTree(inserted_at)
ORDER BY idempotency_key;
