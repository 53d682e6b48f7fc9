/**
 * The ClickHouse queries behind the STR drafts and the regulator's API (issue 8, item 2): a
 * player's KYC record, the transactions in scope, a case's decisions with their executions and
 * model contributions, the cluster's typologies, period counts and the paged logs.
 *
 * Kept apart from api/read-model.ts (the officers' queries) so the two grow without clashing;
 * the SQL follows docs/clickhouse.md: values bound client-side (sql`...`), `FINAL` on every
 * ReplacingMergeTree read, `visitParamExtract*` for payload fields (ClickHouse 18.16), 64-bit
 * integers read back as strings and converted here.
 *
 * Example:
 *   const queries = new StrQueries(clickhouse, config.kafka.topicPrefix)
 *   const player = await queries.playerRecord('pl-48213')     // folded KYC record, or null
 *   const transactions = await queries.transactionsInScope('pl-48213', fromMs, toMs)
 */
import type { ClickHouse } from '../sinks/clickhouse/client.js'
import { joinSql, sql, type SqlQuery } from '../sinks/clickhouse/sql.js'
import { topicName } from '../core/topics.js'
import type { Decision, DepositEvent, TransferEvent, WithdrawalEvent } from '../schemas/domain.js'
import type { StrCounterparty, StrTransaction } from '../sinks/str/draft.js'
import { strTransactionFromEvent, type NarrativeDecision, type NarrativeTypology } from '../sinks/str/from-case.js'

/** The player's record as the players topic built it: each field's latest non-null value. */
export interface PlayerRecord {
  readonly playerId: string
  readonly firstName: string | null
  readonly lastName: string | null
  readonly dateOfBirth: string | null
  /** Country of residence, ISO 3166-1 alpha-2. */
  readonly country: string | null
  readonly jurisdiction: string | null
  readonly tier: string | null
  readonly kycStatus: string | null
  readonly kycLevel: number | null
  readonly selfExcludedUntilMs: number | null
  readonly emailHash: string | null
  readonly phoneHash: string | null
  readonly referrerPlayerId: string | null
  /** Event time of the first and latest players event. */
  readonly firstSeenMs: number
  readonly lastChangedMs: number
  readonly changes: number
}

const PLAYER_FIELDS = ['firstName', 'lastName', 'dateOfBirth', 'country', 'jurisdiction', 'tier', 'kycStatus', 'kycLevel', 'selfExcludedUntilMs', 'emailHash', 'phoneHash', 'referrerPlayerId'] as const

/** A decision as the regulator's logs and the player view list it. */
export interface DecisionLogRow {
  readonly decisionId: string
  readonly withdrawalId: string
  readonly revision: number
  readonly playerId: string
  readonly outcome: string
  readonly reasons: readonly string[]
  readonly amountMinor: string
  readonly currency: string
  readonly jurisdiction: string
  readonly tier: string
  readonly eventTimeMs: number
  readonly ruleSetVersion: string
  readonly modelId: string
  readonly modelVersion: string
  readonly score: number | null
  readonly clusterId: string
}

export const REGULATOR_LOG_TYPES = ['decisions', 'alerts', 'dead-letters', 'withdrawal-events'] as const
export type RegulatorLogType = (typeof REGULATOR_LOG_TYPES)[number]

export type LogRow = Readonly<Record<string, string | number | boolean | null | readonly string[]>>

export interface LogPageRequest {
  readonly fromMs?: number
  readonly toMs?: number
  readonly playerId?: string
  readonly limit: number
  readonly offset: number
}

export interface LogPage {
  readonly items: readonly LogRow[]
  /** The offset of the next page; null on the last one. */
  readonly nextOffset: number | null
}

/** Counts and sums of one period (event time, UTC), as the regulator's report shows them. */
export interface PeriodCounts {
  readonly decisions: ReadonlyArray<{ readonly outcome: string; readonly currency: string; readonly count: number; readonly amountMinor: string }>
  readonly alerts: ReadonlyArray<{ readonly detectorId: string; readonly count: number }>
  readonly deadLetters: ReadonlyArray<{ readonly reason: string; readonly count: number }>
}

interface PayloadRow { readonly payload: string; readonly event_time_ms: string }

function parsePayload<T>(row: PayloadRow): T {
  return JSON.parse(row.payload) as T
}

const toNumber = (value: unknown): number => (value === null || value === undefined ? 0 : Number(value))

/** `CODE (detector): detail` or `CODE: detail`, as sinks/rows.ts writes decision reasons. */
export function parseReason(text: string): Decision['reasons'][number] {
  const withDetector = /^([^ :()]+) \(([^)]*)\): ([\s\S]*)$/.exec(text)
  if (withDetector) return { code: withDetector[1] ?? '', detectorId: withDetector[2] ?? null, detail: withDetector[3] ?? '' }
  const plain = /^([^ :]+): ([\s\S]*)$/.exec(text)
  if (plain) return { code: plain[1] ?? '', detectorId: null, detail: plain[2] ?? '' }
  return { code: text, detectorId: null, detail: '' }
}

/** `(a, b, c)` for `x IN ...`: ClickHouse 18.16 reads an array literal there as one value. Never empty. */
function valueList(values: readonly string[]): SqlQuery {
  return sql`(${joinSql(values.map((value) => sql`${value}`))})`
}

/**
 * `event_time_ms` in [fromMs, toMs), with the same bounds on the whole-second `event_time` so
 * ClickHouse can skip partitions (DateTime binds floored to the second, which keeps them loose).
 */
function timeFilter(fromMs: number | undefined, toMs: number | undefined): SqlQuery {
  const parts: SqlQuery[] = []
  if (fromMs !== undefined) parts.push(sql`event_time_ms >= ${fromMs} AND event_time >= ${new Date(Math.max(0, fromMs))}`)
  if (toMs !== undefined) parts.push(sql`event_time_ms < ${toMs} AND event_time <= ${new Date(Math.max(0, toMs))}`)
  return parts.length === 0 ? sql`1` : parts.reduce((left, right) => sql`${left} AND ${right}`)
}

export class StrQueries {
  constructor(private readonly clickhouse: ClickHouse, private readonly topicPrefix: string) {}

  private topic(key: 'players' | 'deposits' | 'withdrawals' | 'transfers'): string {
    return topicName({ topicPrefix: this.topicPrefix }, key)
  }

  /** True when ClickHouse answers. */
  ping(): Promise<boolean> {
    return this.clickhouse.ping()
  }

  /** Every players event of these players, folded per player; players without any are absent. */
  async playerRecords(playerIds: readonly string[]): Promise<Map<string, PlayerRecord>> {
    const records = new Map<string, PlayerRecord>()
    if (playerIds.length === 0) return records
    const rows = await this.clickhouse.query<PayloadRow & { player_id: string }>(sql`
      SELECT player_id, event_time_ms, payload FROM events FINAL
      WHERE topic = ${this.topic('players')} AND player_id IN ${valueList([...new Set(playerIds)])}
      ORDER BY player_id, event_time_ms, partition, offset`)
    const folded = new Map<string, Record<string, unknown>>()
    for (const row of rows) {
      const change = parsePayload<Record<string, unknown>>(row)
      const eventTimeMs = Number(row.event_time_ms)
      const current = folded.get(row.player_id) ?? { playerId: row.player_id, firstSeenMs: eventTimeMs, changes: 0 }
      // A null field means "unchanged" on the players topic (schemas/avro): keep the earlier value.
      for (const field of PLAYER_FIELDS) if (change[field] !== null && change[field] !== undefined) current[field] = change[field]
      current.lastChangedMs = eventTimeMs
      current.changes = Number(current.changes) + 1
      folded.set(row.player_id, current)
    }
    for (const [playerId, value] of folded) {
      records.set(playerId, Object.fromEntries([
        ['playerId', playerId], ...PLAYER_FIELDS.map((field) => [field, value[field] ?? null]),
        ['firstSeenMs', value.firstSeenMs], ['lastChangedMs', value.lastChangedMs], ['changes', value.changes],
      ]) as unknown as PlayerRecord)
    }
    return records
  }

  /** The player's KYC record, or null when the players topic never mentioned them. */
  async playerRecord(playerId: string): Promise<PlayerRecord | null> {
    return (await this.playerRecords([playerId])).get(playerId) ?? null
  }

  /**
   * Deposits, withdrawals and transfers (sent and received) of the player with event time in
   * [fromMs, toMs), as STR transactions, oldest first. A deposit or withdrawal that appears
   * several times (status changes, a cancellation) is listed once, at its first event time, with
   * its latest status; counterparties of transfers are named from their KYC records.
   */
  async transactionsInScope(playerId: string, fromMs: number, toMs: number): Promise<StrTransaction[]> {
    const window = timeFilter(fromMs, toMs)
    const own = await this.clickhouse.query<PayloadRow & { topic: string }>(sql`
      SELECT topic, event_time_ms, payload FROM events FINAL
      WHERE player_id = ${playerId} AND topic IN ${valueList([this.topic('deposits'), this.topic('withdrawals'), this.topic('transfers')])} AND ${window}
      ORDER BY event_time_ms, topic, partition, offset`)
    const received = await this.clickhouse.query<PayloadRow>(sql`
      SELECT event_time_ms, payload FROM events FINAL
      WHERE topic = ${this.topic('transfers')} AND visitParamExtractString(payload, 'toPlayerId') = ${playerId} AND player_id != ${playerId} AND ${window}
      ORDER BY event_time_ms, partition, offset`)

    const byId = new Map<string, { first: DepositEvent | WithdrawalEvent | TransferEvent; status: string | null }>()
    const remember = (id: string, event: DepositEvent | WithdrawalEvent | TransferEvent, status: string | null): void => {
      const seen = byId.get(id)
      byId.set(id, { first: seen?.first ?? event, status })
    }
    for (const row of own) {
      const payload = parsePayload<Record<string, unknown>>(row)
      if (row.topic === this.topic('deposits')) {
        const event = { ...payload, kind: 'deposit' } as unknown as DepositEvent
        remember(`deposit:${event.depositId}`, event, event.status)
      } else if (row.topic === this.topic('withdrawals')) {
        const event = { ...payload, kind: 'withdrawal' } as unknown as WithdrawalEvent
        remember(`withdrawal:${event.withdrawalId}`, event, event.type)
      } else {
        const event = { ...payload, kind: 'transfer', transferKind: payload.kind } as unknown as TransferEvent
        remember(`transfer:${event.transferId}`, event, event.transferKind)
      }
    }
    for (const row of received) {
      const payload = parsePayload<Record<string, unknown>>(row)
      const event = { ...payload, kind: 'transfer', transferKind: payload.kind } as unknown as TransferEvent
      remember(`transfer:${event.transferId}`, event, event.transferKind)
    }

    const counterpartyIds = [...byId.values()].filter(({ first }) => first.kind === 'transfer')
      .map(({ first }) => (first as TransferEvent).playerId === playerId ? (first as TransferEvent).toPlayerId : first.playerId)
    const counterparties = await this.playerRecords(counterpartyIds)
    const counterpartyOf = (otherId: string): StrCounterparty => {
      const record = counterparties.get(otherId)
      return { playerId: otherId, firstName: record?.firstName ?? '', lastName: record?.lastName ?? '', countryCode: record?.country ?? '' }
    }
    return [...byId.values()].map(({ first, status }) => {
      const counterparty = first.kind === 'transfer' ? counterpartyOf(first.playerId === playerId ? first.toPlayerId : first.playerId) : null
      const transaction = strTransactionFromEvent(first, playerId, { counterparty })
      return { ...transaction, status: status ?? transaction.status }
    }).sort((left, right) => left.eventTimeMs - right.eventTimeMs || (left.transactionId < right.transactionId ? -1 : left.transactionId > right.transactionId ? 1 : 0))
  }

  /**
   * Decisions for the narrative: those named (a case's decision ids) and the player's within
   * [fromMs, toMs), every revision, with their detector executions and champion model
   * contributions.
   */
  async decisionsForNarrative(request: { readonly decisionIds: readonly string[]; readonly playerId: string; readonly fromMs: number; readonly toMs: number }): Promise<NarrativeDecision[]> {
    const named = request.decisionIds.length > 0 ? sql`decision_id IN ${valueList(request.decisionIds)}` : sql`0`
    const decisions = await this.clickhouse.query<{
      decision_id: string; withdrawal_id: string; outcome: string; reasons: string[]; amount_minor: string; currency: string
      event_time_ms: string; rule_set_version: string; cluster_id: string
    }>(sql`
      SELECT decision_id, withdrawal_id, outcome, reasons, amount_minor, currency, event_time_ms, rule_set_version, cluster_id
      FROM decisions FINAL
      WHERE ${named} OR (player_id = ${request.playerId} AND event_time_ms >= ${request.fromMs} AND event_time_ms < ${request.toMs})
      ORDER BY event_time_ms, decision_id`)
    if (decisions.length === 0) return []
    const ids = decisions.map((decision) => decision.decision_id)
    const executions = await this.clickhouse.query<{
      decision_id: string; detector_id: string; detector_version: number; status: string; value: number | null; threshold: number | null; detail: string | null
    }>(sql`
      SELECT decision_id, detector_id, detector_version, status, value, threshold, detail FROM rule_executions FINAL
      WHERE decision_id IN ${valueList(ids)} ORDER BY decision_id, execution_index`)
    const scores = await this.clickhouse.query<{
      decision_id: string; model_id: string; model_version: string; score: number; cutoff: number | null; contributions_feature: string[]; contributions_value: number[]
    }>(sql`
      SELECT decision_id, model_id, model_version, score, cutoff, contributions_feature, contributions_value FROM model_scores FINAL
      WHERE decision_id IN ${valueList(ids)} AND role = 'champion'`)
    const executionsOf = new Map<string, Decision['executions'][number][]>()
    for (const row of executions) {
      const list = executionsOf.get(row.decision_id) ?? []
      list.push({ detectorId: row.detector_id, detectorVersion: Number(row.detector_version), status: row.status.toUpperCase() as 'HIT' | 'NO_HIT' | 'ERROR', value: row.value, threshold: row.threshold, detail: row.detail })
      executionsOf.set(row.decision_id, list)
    }
    const modelOf = new Map(scores.map((row) => [row.decision_id, {
      modelId: row.model_id, modelVersion: row.model_version, score: row.score, cutoff: row.cutoff,
      contributions: row.contributions_feature.map((feature, index) => ({ feature, contribution: row.contributions_value[index] ?? 0 })),
    }]))
    return decisions.map((row) => ({
      decisionId: row.decision_id,
      withdrawalId: row.withdrawal_id,
      outcome: row.outcome as Decision['outcome'],
      reasons: row.reasons.map(parseReason),
      amountMinor: Number(row.amount_minor),
      currency: row.currency,
      eventTimeMs: Number(row.event_time_ms),
      ruleSetVersion: row.rule_set_version,
      executions: executionsOf.get(row.decision_id) ?? [],
      model: modelOf.get(row.decision_id) ?? null,
      clusterId: row.cluster_id === '' ? null : row.cluster_id,
    }))
  }

  /** The typologies the graph raised on the player's current cluster (latest player_clusters row, not erased). */
  async clusterTypologies(playerId: string): Promise<NarrativeTypology[]> {
    const rows = await this.clickhouse.query<{ cluster_id: string; size: number; risk: number; typologies: string[]; erased: number }>(sql`
      SELECT cluster_id, size, risk, typologies, erased FROM player_clusters FINAL
      WHERE player_id = ${playerId} ORDER BY sequence DESC LIMIT 1`)
    const latest = rows[0]
    if (latest === undefined || Number(latest.erased) === 1) return []
    const summary = `${latest.size} linked accounts, cluster risk ${Number(latest.risk).toFixed(2)}`
    return latest.typologies.map((typology) => ({ typology, clusterId: latest.cluster_id || null, summary }))
  }

  /** Decisions by outcome and currency, alerts by detector and dead letters by reason with event time in [fromMs, toMs). */
  async periodCounts(fromMs: number, toMs: number): Promise<PeriodCounts> {
    const window = timeFilter(fromMs, toMs)
    const decisions = await this.clickhouse.query<{ outcome: string; currency: string; count: string; amount_minor: string }>(sql`
      SELECT outcome, currency, count() AS count, toString(sum(amount_minor)) AS amount_minor FROM decisions FINAL
      WHERE ${window} GROUP BY outcome, currency ORDER BY outcome, currency`)
    const alerts = await this.clickhouse.query<{ detector_id: string; count: string }>(sql`
      SELECT detector_id, count() AS count FROM alerts FINAL WHERE ${window} GROUP BY detector_id ORDER BY detector_id`)
    // dead_letters keeps the source record's timestamp in whole seconds only.
    const deadLetters = await this.clickhouse.query<{ reason: string; count: string }>(sql`
      SELECT reason, count() AS count FROM dead_letters FINAL
      WHERE event_time >= ${new Date(Math.ceil(fromMs / 1000) * 1000)} AND event_time < ${new Date(Math.ceil(toMs / 1000) * 1000)}
      GROUP BY reason ORDER BY reason`)
    return {
      decisions: decisions.map((row) => ({ outcome: row.outcome, currency: row.currency, count: toNumber(row.count), amountMinor: row.amount_minor })),
      alerts: alerts.map((row) => ({ detectorId: row.detector_id, count: toNumber(row.count) })),
      deadLetters: deadLetters.map((row) => ({ reason: row.reason, count: toNumber(row.count) })),
    }
  }

  /** One page of a log, oldest first (then by id), filtered by event time and player. */
  async logPage(type: RegulatorLogType, request: LogPageRequest): Promise<LogPage> {
    const player = request.playerId === undefined ? sql`1` : sql`player_id = ${request.playerId}`
    const page = sql`LIMIT ${request.limit + 1} OFFSET ${request.offset}`
    let rows: Array<Record<string, unknown>>
    switch (type) {
      case 'decisions':
        rows = await this.clickhouse.query(sql`
          SELECT decision_id, withdrawal_id, revision, player_id, outcome, reasons, actions, amount_minor, currency, jurisdiction, tier,
                 event_time_ms, rule_set_version, model_id, model_version, if(isNaN(score), NULL, score) AS score, cluster_id
          FROM decisions FINAL WHERE ${timeFilter(request.fromMs, request.toMs)} AND ${player}
          ORDER BY event_time_ms, decision_id ${page}`)
        break
      case 'alerts':
        rows = await this.clickhouse.query(sql`
          SELECT alert_id, player_id, detector_id, detector_version, severity, action, event_time_ms, value, threshold,
                 window_start_ms, window_end_ms, evidence_event_ids, rule_set_version
          FROM alerts FINAL WHERE ${timeFilter(request.fromMs, request.toMs)} AND ${player}
          ORDER BY event_time_ms, alert_id ${page}`)
        break
      case 'dead-letters': {
        // No player column: a dead letter is a record that could not be read. The payload stays out (raw personal data).
        if (request.playerId !== undefined) return { items: [], nextOffset: null }
        const from = request.fromMs === undefined ? sql`1` : sql`event_time >= ${new Date(Math.ceil(request.fromMs / 1000) * 1000)}`
        const to = request.toMs === undefined ? sql`1` : sql`event_time < ${new Date(Math.ceil(request.toMs / 1000) * 1000)}`
        rows = await this.clickhouse.query(sql`
          SELECT dlq_id, source_topic, source_partition, source_offset, reason, message, toUInt32(event_time) * 1000 AS event_time_ms
          FROM dead_letters FINAL WHERE ${from} AND ${to}
          ORDER BY event_time, dlq_id ${page}`)
        break
      }
      case 'withdrawal-events':
        rows = await this.clickhouse.query(sql`
          SELECT transition_id, withdrawal_id, player_id, sequence, from_state, to_state, cause_type, cause_id, event_time_ms, attempt, detail
          FROM withdrawal_events FINAL WHERE ${timeFilter(request.fromMs, request.toMs)} AND ${player}
          ORDER BY event_time_ms, withdrawal_id, sequence ${page}`)
        break
    }
    const items = rows.slice(0, request.limit).map(normaliseLogRow)
    return { items, nextOffset: rows.length > request.limit ? request.offset + request.limit : null }
  }

  /** The player's latest decisions, newest first. */
  async playerDecisions(playerId: string, limit: number): Promise<LogRow[]> {
    const rows = await this.clickhouse.query<Record<string, unknown>>(sql`
      SELECT decision_id, withdrawal_id, revision, player_id, outcome, reasons, amount_minor, currency, event_time_ms, rule_set_version,
             model_id, model_version, if(isNaN(score), NULL, score) AS score, cluster_id
      FROM decisions FINAL WHERE player_id = ${playerId} ORDER BY event_time_ms DESC, decision_id DESC LIMIT ${limit}`)
    return rows.map(normaliseLogRow)
  }
}

/** Epoch-millisecond columns (Int64, strings in JSON) become numbers: they are far below 2^53. */
function normaliseLogRow(row: Record<string, unknown>): LogRow {
  const out: Record<string, string | number | boolean | null | readonly string[]> = {}
  for (const [key, value] of Object.entries(row)) {
    if (key.endsWith('_ms') && typeof value === 'string') out[key] = Number(value)
    else if (key === 'source_offset' && typeof value === 'number') out[key] = String(value)
    else out[key] = value as string | number | boolean | null | readonly string[]
  }
  return out
}
