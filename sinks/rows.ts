/**
 * Wire (Avro record on an output topic) -> row (ClickHouse), one named function per table.
 * Sinks never see detector state; these adapters are the only place the two shapes meet.
 */
import type { Decision, DeadLetter } from '../schemas/generated/types.js'
import { formatDateTime } from './clickhouse/sql.js'

/** ClickHouse DateTime holds 1970-01-01 to 2106-02-07; a source timestamp outside is clamped (the exact value stays in the payload). */
const MAX_DATE_TIME_MS = 4_294_967_295_000
const clampedDateTime = (epochMs: number): string => formatDateTime(Math.min(MAX_DATE_TIME_MS, Math.max(0, epochMs)))

export interface RowMeta {
  /** From the record's `pitboss-processing-ms` header: arrival in the engine to emission. */
  readonly latencyMs: number
  readonly insertedAtMs: number
}

export function toDecisionRow(decision: Decision, meta: RowMeta): Record<string, unknown> {
  return {
    decision_id: decision.decisionId,
    withdrawal_id: decision.withdrawalId,
    revision: decision.revision,
    player_id: decision.playerId,
    outcome: decision.outcome,
    player_reason_code: decision.playerReasonCode,
    reasons: decision.reasons.map((reason) => (reason.detectorId === null ? `${reason.code}: ${reason.detail}` : `${reason.code} (${reason.detectorId}): ${reason.detail}`)),
    actions: decision.actions,
    amount_minor: decision.amountMinor,
    currency: decision.currency,
    jurisdiction: decision.jurisdiction,
    tier: decision.tier,
    event_time: clampedDateTime(decision.eventTimeMs),
    event_time_ms: decision.eventTimeMs,
    rule_set_version: decision.ruleSetVersion,
    executions_detector: decision.executions.map((execution) => `${execution.detectorId}@${execution.detectorVersion}`),
    executions_status: decision.executions.map((execution) => execution.status.toLowerCase()),
    // Arrays of Float64 cannot hold NULL on 18.16: a missing value or threshold is NaN.
    executions_value: decision.executions.map((execution) => execution.value ?? Number.NaN),
    executions_threshold: decision.executions.map((execution) => execution.threshold ?? Number.NaN),
    model_id: decision.model?.modelId ?? '',
    model_version: decision.model?.modelVersion ?? '',
    score: decision.model?.score ?? Number.NaN,
    cluster_id: decision.clusterId ?? '',
    source_topic: decision.source.topic,
    source_partition: decision.source.partition,
    source_offset: decision.source.offset,
    latency_ms: meta.latencyMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toDeadLetterRow(deadLetter: DeadLetter, meta: RowMeta): Record<string, unknown> {
  return {
    dlq_id: deadLetter.dlqId,
    source_topic: deadLetter.sourceTopic,
    source_partition: deadLetter.sourcePartition,
    source_offset: deadLetter.sourceOffset,
    reason: deadLetter.reason,
    message: deadLetter.message,
    payload_base64: Buffer.from(deadLetter.payload).toString('base64'),
    event_time: clampedDateTime(deadLetter.sourceTimestampMs),
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}
