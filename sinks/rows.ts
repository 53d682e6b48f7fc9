/**
 * Wire (Avro record read from a topic) -> row (ClickHouse), one named function per table.
 * Sinks never see detector state; these adapters are the only place the two shapes meet. Each
 * table's columns and key are in sinks/clickhouse/migrations/ and docs/clickhouse.md.
 *
 * Column conventions: snake_case; times as `x` DateTime('UTC') text (clamped to DateTime's
 * range) plus `x_ms` epoch milliseconds (exact); Int64 values may be numbers or decimal strings
 * (JSONEachRow takes both); a missing scalar is null (Nullable column), a missing array entry is
 * NaN (18.16 has no Nullable inside arrays); `inserted_at` is the ReplacingMergeTree version.
 *
 * Example:
 *   const meta = { latencyMs: 0, insertedAtMs: clock.nowMs(), source: { topic: 'casino.bets.v1', partition: 3, offset: '1042', timestampMs } }
 *   toEventRow('bets', bet, meta)           // { topic: 'casino.bets.v1', partition: 3, offset: '1042', event_id: bet.eventId, type: 'SETTLED', ... }
 *   toRuleExecutionRows(decision, meta)     // one row per entry of decision.executions
 */
import type { CasinoTopicKey } from '../core/topics.js'
import type { WireValue } from '../schemas/codec.js'
import type { Alert, AuditEntry, CaseEvent, CaseLabel, DeadLetter, Decision, FeatureContribution, LedgerCommand, PayoutCommand, PlayerCluster, WithdrawalTransition } from '../schemas/generated/types.js'
import { formatDateTime } from './clickhouse/sql.js'

/** A row for `ClickHouse.insert`: column name -> value. */
export type Row = Record<string, unknown>

/** ClickHouse DateTime holds 1970-01-01 to 2106-02-07; a source timestamp outside is clamped (the exact value stays in the `_ms` column and the payload). */
const MAX_DATE_TIME_MS = 4_294_967_295_000
const clampedDateTime = (epochMs: number): string => formatDateTime(Math.min(MAX_DATE_TIME_MS, Math.max(0, epochMs)))

export interface RowMeta {
  /** From the record's `pitboss-processing-ms` header: arrival in the engine to emission (0 when absent). */
  readonly latencyMs: number
  /** Wall-clock time of the sink's read; the ReplacingMergeTree version column. */
  readonly insertedAtMs: number
  /** The Kafka record the value was read from. */
  readonly source: RecordPosition
}

export interface RecordPosition {
  /** Topic as named on the broker, with the deployment prefix. */
  readonly topic: string
  readonly partition: number
  /** Offset as Kafka gives it (a decimal string: offsets are Int64). */
  readonly offset: string
  /** The record's Kafka timestamp (epoch milliseconds). */
  readonly timestampMs: number
}

export function toDecisionRow(decision: Decision, meta: RowMeta): Row {
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

/** One row per detector execution of the decision, `execution_index` its position in `executions`. */
export function toRuleExecutionRows(decision: Decision, meta: RowMeta): Row[] {
  return decision.executions.map((execution, index) => ({
    decision_id: decision.decisionId,
    withdrawal_id: decision.withdrawalId,
    revision: decision.revision,
    execution_index: index,
    player_id: decision.playerId,
    detector_id: execution.detectorId,
    detector_version: execution.detectorVersion,
    status: execution.status.toLowerCase(),
    value: execution.value,
    threshold: execution.threshold,
    detail: execution.detail,
    rule_set_version: decision.ruleSetVersion,
    event_time: clampedDateTime(decision.eventTimeMs),
    event_time_ms: decision.eventTimeMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }))
}

/** A model's score as decisions carry it; `cutoff` only in records that have it (decision schema v2). */
interface ScoredModel {
  readonly modelId: string
  readonly modelVersion: string
  readonly score: number
  readonly cutoff?: number | null
  readonly contributions: readonly FeatureContribution[]
}

/**
 * The decision fields model_scores reads, typed loosely so that records written before shadow
 * models existed (no `shadows`, no `cutoff`) read as a champion only.
 */
interface ScoredDecision {
  readonly model: ScoredModel | null
  readonly shadows?: readonly ScoredModel[] | null
}

/** One row for the champion (the decision's `model`, when one scored) and one per shadow model (`shadows`, [] when absent). */
export function toModelScoreRows(decision: Decision, meta: RowMeta): Row[] {
  const scored: ScoredDecision = decision
  const models: Array<{ role: 'champion' | 'shadow'; model: ScoredModel }> = []
  if (scored.model !== null) models.push({ role: 'champion', model: scored.model })
  for (const shadow of scored.shadows ?? []) models.push({ role: 'shadow', model: shadow })
  return models.map(({ role, model }) => ({
    decision_id: decision.decisionId,
    withdrawal_id: decision.withdrawalId,
    revision: decision.revision,
    player_id: decision.playerId,
    model_id: model.modelId,
    model_version: model.modelVersion,
    role,
    score: model.score,
    cutoff: model.cutoff ?? null,
    contributions_feature: model.contributions.map((contribution) => contribution.feature),
    contributions_value: model.contributions.map((contribution) => contribution.contribution),
    event_time: clampedDateTime(decision.eventTimeMs),
    event_time_ms: decision.eventTimeMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }))
}

/** The columns of `events` that differ per topic: the record's kind and its amount, if any. */
interface EventSummary {
  readonly type: string
  readonly amountMinor: number
  readonly currency: string
}

const NO_AMOUNT = { amountMinor: 0, currency: '' } as const

// A bet's stake is its amount (the win is in the payload); deposits name their step `status`,
// transfers `kind`.
const EVENT_SUMMARIES: { readonly [K in CasinoTopicKey]: (value: WireValue<K>) => EventSummary } = {
  players: (player) => ({ type: player.type, ...NO_AMOUNT }),
  devices: (device) => ({ type: device.type, ...NO_AMOUNT }),
  deposits: (deposit) => ({ type: deposit.status, amountMinor: deposit.amountMinor, currency: deposit.currency }),
  transfers: (transfer) => ({ type: transfer.kind, amountMinor: transfer.amountMinor, currency: transfer.currency }),
  bets: (bet) => ({ type: bet.type, amountMinor: bet.stakeMinor, currency: bet.currency }),
  withdrawals: (withdrawal) => ({ type: withdrawal.type, amountMinor: withdrawal.amountMinor, currency: withdrawal.currency }),
}

/**
 * One row per record of a casino input topic; identity (topic, partition, offset) from `meta.source`.
 * Example: toEventRow('deposits', deposit, meta).type === deposit.status
 */
export function toEventRow<K extends CasinoTopicKey>(topic: K, event: WireValue<K>, meta: RowMeta): Row {
  const summary = EVENT_SUMMARIES[topic](event)
  return {
    topic: meta.source.topic,
    partition: meta.source.partition,
    offset: meta.source.offset,
    event_id: event.eventId,
    player_id: event.playerId,
    event_time: clampedDateTime(event.eventTimeMs),
    event_time_ms: event.eventTimeMs,
    type: summary.type,
    amount_minor: summary.amountMinor,
    currency: summary.currency,
    payload: toJsonText(event),
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

/**
 * A decoded record as JSON text: bigints as decimal strings, bytes as hex (the convention of
 * schemas/fixtures/*.json, so a payload reads back with the same loader).
 * Example: toJsonText({ key: Buffer.from([1, 255]), n: 2n ** 60n }) -> '{"key":"01ff","n":"1152921504606846976"}'
 */
export function toJsonText(value: unknown): string {
  // The replacer sees Buffers after their own toJSON has run, so read the original from the holder.
  return JSON.stringify(value, function (this: Record<string, unknown>, key: string, converted: unknown) {
    const original = this[key]
    if (original instanceof Uint8Array) return Buffer.from(original.buffer, original.byteOffset, original.byteLength).toString('hex')
    if (typeof converted === 'bigint') return converted.toString()
    return converted
  })
}

export function toAlertRow(alert: Alert, meta: RowMeta): Row {
  return {
    alert_id: alert.alertId,
    player_id: alert.playerId,
    detector_id: alert.detectorId,
    detector_version: alert.detectorVersion,
    severity: alert.severity,
    action: alert.action,
    event_time: clampedDateTime(alert.eventTimeMs),
    event_time_ms: alert.eventTimeMs,
    value: alert.value,
    threshold: alert.threshold,
    window_start_ms: alert.windowStartMs,
    window_end_ms: alert.windowEndMs,
    evidence_event_ids: alert.evidenceEventIds,
    rule_set_version: alert.ruleSetVersion,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toPayoutCommandRow(command: PayoutCommand, meta: RowMeta): Row {
  return {
    command_id: command.commandId,
    idempotency_key: command.idempotencyKey,
    withdrawal_id: command.withdrawalId,
    player_id: command.playerId,
    operation: command.operation,
    attempt: command.attempt,
    amount_minor: command.amountMinor,
    currency: command.currency,
    method: command.method,
    instrument_token: command.instrumentToken,
    decision_id: command.decisionId,
    emitted_at: clampedDateTime(meta.source.timestampMs),
    emitted_at_ms: meta.source.timestampMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toLedgerCommandRow(command: LedgerCommand, meta: RowMeta): Row {
  return {
    command_id: command.commandId,
    idempotency_key: command.idempotencyKey,
    withdrawal_id: command.withdrawalId,
    player_id: command.playerId,
    operation: command.operation,
    amount_minor: command.amountMinor,
    currency: command.currency,
    decision_id: command.decisionId,
    emitted_at: clampedDateTime(meta.source.timestampMs),
    emitted_at_ms: meta.source.timestampMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toDeadLetterRow(deadLetter: DeadLetter, meta: RowMeta): Row {
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

export function toWithdrawalEventRow(transition: WithdrawalTransition, meta: RowMeta): Row {
  return {
    transition_id: transition.transitionId,
    withdrawal_id: transition.withdrawalId,
    player_id: transition.playerId,
    sequence: transition.sequence,
    from_state: transition.fromState,
    to_state: transition.toState,
    cause_type: transition.causeType,
    cause_id: transition.causeId,
    event_time: clampedDateTime(transition.eventTimeMs),
    event_time_ms: transition.eventTimeMs,
    attempt: transition.attempt,
    detail: transition.detail ?? '',
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toCaseEventRow(event: CaseEvent, meta: RowMeta): Row {
  return {
    event_id: event.eventId,
    sequence: event.sequence,
    case_id: event.caseId,
    case_version: event.caseVersion,
    type: event.type,
    status: event.status,
    subject_kind: event.subjectKind,
    subject_id: event.subjectId,
    actor_id: event.actorId,
    actor_role: event.actorRole,
    occurred_at: clampedDateTime(event.occurredAtMs),
    occurred_at_ms: event.occurredAtMs,
    details: event.details,
    previous_hash: event.previousHash,
    hash: event.hash,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toLabelRow(label: CaseLabel, meta: RowMeta): Row {
  return {
    label_id: label.labelId,
    case_id: label.caseId,
    player_id: label.playerId,
    typology: label.typology,
    outcome: label.outcome,
    resolution: label.resolution,
    alert_ids: label.alertIds,
    incident_ids: label.incidentIds,
    decision_ids: label.decisionIds,
    first_alert_time_ms: label.firstAlertTimeMs,
    last_alert_time_ms: label.lastAlertTimeMs,
    closed_at: clampedDateTime(label.closedAtMs),
    closed_at_ms: label.closedAtMs,
    closed_by: label.closedBy,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

export function toPlayerClusterRow(cluster: PlayerCluster, meta: RowMeta): Row {
  return {
    player_id: cluster.playerId,
    sequence: cluster.sequence,
    event_id: cluster.eventId,
    erased: cluster.erased ? 1 : 0,
    cluster_id: cluster.clusterId ?? '',
    size: cluster.size,
    community_id: cluster.communityId ?? '',
    community_size: cluster.communitySize,
    risk: cluster.risk,
    typologies: cluster.typologies,
    shared_identifiers: cluster.sharedIdentifiers.map((shared) => `${shared.identifierType.toLowerCase()}:${shared.identifier}`),
    shared_identifier_count: cluster.sharedIdentifierCount,
    event_time: clampedDateTime(cluster.eventTimeMs),
    event_time_ms: cluster.eventTimeMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

/** Decision schema v2's verdict fields (composite score, hard stop, reviewer), beside the decision row. */
export function toDecisionVerdictRow(decision: Decision, meta: RowMeta): Row {
  return {
    decision_id: decision.decisionId,
    withdrawal_id: decision.withdrawalId,
    revision: decision.revision,
    player_id: decision.playerId,
    outcome: decision.outcome,
    composite_score: decision.compositeScore,
    hard_stop: decision.hardStop ?? '',
    reviewer_id: decision.review?.reviewerId ?? '',
    review_case_id: decision.review?.caseId ?? '',
    review_reason_code: decision.review?.reasonCode ?? '',
    review_event_id: decision.review?.eventId ?? '',
    event_time: clampedDateTime(decision.eventTimeMs),
    event_time_ms: decision.eventTimeMs,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

/** One row per audit entry (risk.audit.v1); identity (sequence, hash): a re-published line has the same hash. */
export function toAuditLogRow(entry: AuditEntry, meta: RowMeta): Row {
  return {
    sequence: entry.sequence,
    hash: entry.hash,
    previous_hash: entry.previousHash,
    recorded_at: clampedDateTime(entry.atMs),
    recorded_at_ms: entry.atMs,
    actor: entry.actor,
    roles: entry.roles,
    token_id: entry.tokenId,
    action: entry.action,
    entity_type: entry.entityType,
    entity_id: entry.entityId,
    before_json: entry.before,
    after_json: entry.after,
    detail_json: entry.detail,
    request_json: entry.request,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }
}

/** The audit action of an STR export (api/routes/str.ts, POST /str/:draftId/export). */
export const STR_EXPORT_ACTION = 'str.export'

/**
 * One row per STR export, from its audit entry; [] for every other action. The export route
 * puts caseId, fileName, sha256 and exportedAtMs in the entry's detail; an entry written before
 * caseId and exportedAtMs were there gives '' and the entry's time instead.
 *
 * Example: toStrReportRows({ action: 'str.export', entityId: 'str-CASE-42-1', detail: '{"caseId":"CASE-42","fileName":"STR-str-CASE-42-1.xml","sha256":"5d41…"}', ... }, meta)
 *   -> [{ draft_id: 'str-CASE-42-1', case_id: 'CASE-42', file_name: 'STR-str-CASE-42-1.xml', sha256: '5d41…', ... }]
 */
export function toStrReportRows(entry: AuditEntry, meta: RowMeta): Row[] {
  if (entry.action !== STR_EXPORT_ACTION || entry.entityId === null || entry.detail === null) return []
  let detail: Record<string, unknown>
  try {
    const parsed: unknown = JSON.parse(entry.detail)
    if (parsed === null || typeof parsed !== 'object') return []
    detail = parsed as Record<string, unknown>
  } catch {
    return []
  }
  // Without the file's name and hash the row would name no report: such an entry is not an export.
  if (typeof detail.fileName !== 'string' || typeof detail.sha256 !== 'string') return []
  const exportedAtMs = Number.isSafeInteger(detail.exportedAtMs) ? (detail.exportedAtMs as number) : entry.atMs
  return [{
    draft_id: entry.entityId,
    case_id: typeof detail.caseId === 'string' ? detail.caseId : '',
    file_name: detail.fileName,
    sha256: detail.sha256,
    exported_by: entry.actor,
    exported_at: clampedDateTime(exportedAtMs),
    exported_at_ms: exportedAtMs,
    audit_sequence: entry.sequence,
    audit_hash: entry.hash,
    inserted_at: formatDateTime(meta.insertedAtMs),
  }]
}
