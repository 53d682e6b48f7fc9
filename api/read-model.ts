/**
 * The read model the officers' and regulators' routes query: decisions, rule executions, model
 * scores, alerts, events, withdrawal transitions and players' clusters as the ClickHouse sink
 * wrote them (docs/clickhouse.md, migrations 001–003). Read-only; every method answers plain
 * JSON-ready values (numbers for Int64 columns: amounts and times stay far below 2^53).
 *
 * Tables are ReplacingMergeTrees whose copies collapse only in background merges, so every
 * query reads with FINAL. Values are bound client-side (`sql`), as ClickHouse 18.16 needs.
 *
 * Example:
 *   const readModel = createClickHouseReadModel(createClickHouse(config.clickhouse))
 *   const history = await readModel.withdrawal('wd-881')
 *   // { withdrawalId: 'wd-881', playerId: 'p-1', revisions: [{ revision: 1, outcome: 'REVIEW', executions: [...], models: [...] }, ...],
 *   //   transitions: [{ sequence: 1, fromState: 'NONE', toState: 'PENDING', ... }, ...] }  (null when the sink has nothing)
 *   const page = await readModel.playerTimeline('p-1', { fromMs: 0, toMs: Date.UTC(2025, 0, 1), limit: 50 })
 *   // [{ atMs, kind: 'decision', id: 'wd-881:1', summary: 'REVIEW withdrawal wd-881 (revision 1): ...', data: {...} }, ...]
 */
import type { ClickHouse } from '../sinks/clickhouse/client.js'
import { joinSql, sql, type SqlQuery } from '../sinks/clickhouse/sql.js'
import { formatMinorUnits, isKnownCurrency } from '../sinks/str/currency.js'

/** One reason behind a decision, parsed back from the sink's `code (detector): detail` text. */
export interface DecisionReasonView {
  readonly code: string
  readonly detectorId: string | null
  readonly detail: string
}

/** A decision revision without its executions and scores (lists, timelines). */
export interface DecisionRecord {
  readonly decisionId: string
  readonly withdrawalId: string
  readonly revision: number
  readonly playerId: string
  readonly outcome: string
  readonly playerReasonCode: string
  readonly reasons: readonly DecisionReasonView[]
  readonly actions: readonly string[]
  readonly amountMinor: number
  readonly currency: string
  readonly jurisdiction: string
  readonly tier: string
  readonly eventTimeMs: number
  readonly ruleSetVersion: string
  /** null for reviewer revisions and rows written before decision schema v2. */
  readonly compositeScore: number | null
  readonly hardStop: string | null
  /** The officer's verdict this revision came from; null for the engine's own decisions. */
  readonly review: { readonly reviewerId: string; readonly caseId: string | null; readonly reasonCode: string; readonly eventId: string } | null
  readonly clusterId: string | null
  readonly latencyMs: number
}

export interface ExecutionView {
  readonly detectorId: string
  readonly detectorVersion: number
  /** hit | no_hit | error */
  readonly status: string
  readonly value: number | null
  readonly threshold: number | null
  /** null when the detector said nothing (and for decisions whose rule_executions rows are missing). */
  readonly detail: string | null
}

export interface ModelScoreView {
  readonly role: 'champion' | 'shadow'
  readonly modelId: string
  readonly modelVersion: string
  readonly score: number
  readonly cutoff: number | null
  /** Largest magnitude first. */
  readonly contributions: ReadonlyArray<{ readonly feature: string; readonly contribution: number }>
}

/** A revision with what produced it: every detector execution and every model that scored it. */
export interface DecisionRevision extends DecisionRecord {
  readonly executions: readonly ExecutionView[]
  readonly models: readonly ModelScoreView[]
}

export interface TransitionView {
  readonly transitionId: string
  readonly withdrawalId: string
  readonly playerId: string
  readonly sequence: number
  readonly fromState: string
  readonly toState: string
  readonly causeType: string
  readonly causeId: string
  readonly eventTimeMs: number
  readonly attempt: number
  readonly detail: string | null
}

/** Everything known about one withdrawal: its decision revisions (oldest first) and state transitions. */
export interface WithdrawalHistory {
  readonly withdrawalId: string
  readonly playerId: string
  readonly revisions: readonly DecisionRevision[]
  readonly transitions: readonly TransitionView[]
}

export interface AlertView {
  readonly alertId: string
  readonly playerId: string
  readonly detectorId: string
  readonly detectorVersion: number
  readonly severity: string
  readonly action: string
  readonly eventTimeMs: number
  readonly value: number | null
  readonly threshold: number | null
  readonly windowStartMs: number | null
  readonly windowEndMs: number | null
  readonly evidenceEventIds: readonly string[]
  readonly ruleSetVersion: string
}

/** An input event of the player (deposit, bet, login...). */
export interface EventView {
  /** Topic as on the broker (with the deployment prefix), partition and offset: the record's identity. */
  readonly topic: string
  readonly partition: number
  readonly offset: string
  readonly eventId: string
  readonly eventTimeMs: number
  readonly type: string
  readonly amountMinor: number
  readonly currency: string
  /** The decoded record as the sink stored it (bytes as hex). */
  readonly payload: unknown
}

export const TIMELINE_KINDS = ['event', 'decision', 'alert', 'transition'] as const
export type TimelineKind = (typeof TIMELINE_KINDS)[number]

/** One line of a player's timeline. */
export interface TimelineEntry {
  /** Event time, epoch milliseconds. */
  readonly atMs: number
  readonly kind: TimelineKind
  /** eventId, decisionId, alertId or transitionId. */
  readonly id: string
  /** One line for a human, e.g. 'deposit COMPLETED 495.00 EUR'. */
  readonly summary: string
  readonly data: EventView | DecisionRecord | AlertView | TransitionView
}

export interface ClusterNode {
  /** `player:<playerId>` or `identifier:<type>:<identifier>`: unique across both kinds. */
  readonly id: string
  readonly kind: 'player' | 'identifier'
  /** The player id, or the identifier. */
  readonly label: string
  /** Players only: 0..1 from the graph worker. */
  readonly risk?: number
  /** Players only: the cluster typologies naming the player. */
  readonly typologies?: readonly string[]
  /** Players only: the Louvain community; null when not computed. */
  readonly communityId?: string | null
  /** Identifiers only: device, card, wallet, ip_block, email, phone, referrer. */
  readonly identifierType?: string
}

export interface ClusterEdge {
  readonly source: string
  readonly target: string
  /** The identifier's type: the kind of link. */
  readonly kind: string
}

/**
 * A cluster as a graph, graphology-compatible: `graph.addNode(node.id, node)` for each node and
 * `graph.addEdge(edge.source, edge.target, edge)` for each edge.
 */
export interface ClusterGraph {
  readonly clusterId: string
  /** Players in the cluster as the graph worker last counted them (may exceed the players drawn). */
  readonly size: number
  /** Highest event time among the players' latest cluster records. */
  readonly asOfMs: number
  /** True when there were more players than `maxPlayers`; the graph then holds the riskiest ones. */
  readonly truncated: boolean
  readonly nodes: readonly ClusterNode[]
  readonly edges: readonly ClusterEdge[]
}

export interface PageOptions {
  /** At most this many; the caller validates the range. */
  readonly limit: number
}

export interface PlayerDecisionsOptions extends PageOptions {
  /** Only decisions with an event time strictly before this (epoch ms): the next page's cursor. */
  readonly beforeMs?: number
}

export interface TimelineOptions extends PageOptions {
  /** Inclusive, epoch ms; default the beginning. */
  readonly fromMs?: number
  /** Exclusive, epoch ms; default no end. */
  readonly toMs?: number
}

export interface AlertFilter extends PageOptions {
  readonly playerId?: string
  readonly detectorId?: string
}

/**
 * What the officers' and regulators' routes read. Implemented over ClickHouse by
 * `createClickHouseReadModel`; errors are the client's (RISK_ERR_CLICKHOUSE_UNAVAILABLE: retry,
 * RISK_ERR_CLICKHOUSE_QUERY: migrations missing?).
 */
export interface ReadModel {
  /** True when the store behind it answers. */
  ping(): Promise<boolean>
  /** The withdrawal's decision revisions and transitions; null when the sink has neither. */
  withdrawal(withdrawalId: string): Promise<WithdrawalHistory | null>
  /** The player's decisions, newest first (event time, then withdrawal and revision descending). */
  playerDecisions(playerId: string, options: PlayerDecisionsOptions): Promise<DecisionRecord[]>
  /** Events, decisions, alerts and transitions of the player merged by event time, newest first. */
  playerTimeline(playerId: string, options: TimelineOptions): Promise<TimelineEntry[]>
  /** Alerts newest first, filtered by player and/or detector. */
  alerts(filter: AlertFilter): Promise<AlertView[]>
  /** The cluster's players and shared identifiers as a graph; null when no player is in it now. */
  cluster(clusterId: string): Promise<ClusterGraph | null>
}

export interface ClickHouseReadModelOptions {
  /** Most players drawn for one cluster (default 500): sigma.js stays readable and the answer small. */
  readonly maxClusterPlayers?: number
}

// ---------------------------------------------------------------- row shapes (JSONEachRow: Int64 as strings)

type Int64 = string | number

interface DecisionRow {
  decision_id: string; withdrawal_id: string; revision: number; player_id: string; outcome: string; player_reason_code: string
  reasons: string[]; actions: string[]; amount_minor: Int64; currency: string; jurisdiction: string; tier: string; event_time_ms: Int64
  rule_set_version: string; executions_detector: string[]; executions_status: string[]; executions_value: Array<number | null>
  executions_threshold: Array<number | null>; cluster_id: string; latency_ms: number
}

/** decision_verdicts (migration 003): decision schema v2's fields, beside `decisions` because 18.16 cannot add columns idempotently. */
interface VerdictRow {
  withdrawal_id: string; revision: number; composite_score: number | null; hard_stop: string
  reviewer_id: string; review_case_id: string; review_reason_code: string; review_event_id: string
}

interface ExecutionRow {
  revision: number; execution_index: number; detector_id: string; detector_version: number; status: string
  value: number | null; threshold: number | null; detail: string | null
}

interface ModelScoreRow {
  revision: number; role: string; model_id: string; model_version: string; score: number | null; cutoff: number | null
  contributions_feature: string[]; contributions_value: number[]
}

interface TransitionRow {
  transition_id: string; withdrawal_id: string; player_id: string; sequence: number; from_state: string; to_state: string
  cause_type: string; cause_id: string; event_time_ms: Int64; attempt: number; detail: string
}

interface AlertRow {
  alert_id: string; player_id: string; detector_id: string; detector_version: number; severity: string; action: string
  event_time_ms: Int64; value: number | null; threshold: number | null; window_start_ms: Int64 | null; window_end_ms: Int64 | null
  evidence_event_ids: string[]; rule_set_version: string
}

interface EventRow {
  topic: string; partition: number; offset: Int64; event_id: string; event_time_ms: Int64; type: string
  amount_minor: Int64; currency: string; payload: string
}

interface ClusterRow {
  player_id: string; latest_risk: number | null; latest_typologies: string[]; latest_shared: string[]
  latest_community_id: string; latest_event_time_ms: Int64; latest_size: number
}

const DECISION_COLUMNS = sql`decision_id, withdrawal_id, revision, player_id, outcome, player_reason_code, reasons, actions,
  amount_minor, currency, jurisdiction, tier, event_time_ms, rule_set_version, executions_detector, executions_status,
  executions_value, executions_threshold, cluster_id, latency_ms`

const ALERT_COLUMNS = sql`alert_id, player_id, detector_id, detector_version, severity, action, event_time_ms, value, threshold,
  window_start_ms, window_end_ms, evidence_event_ids, rule_set_version`

const TRANSITION_COLUMNS = sql`transition_id, withdrawal_id, player_id, sequence, from_state, to_state, cause_type, cause_id,
  event_time_ms, attempt, detail`

// ---------------------------------------------------------------- conversions

/** ClickHouse writes NaN (a missing score, an unset composite) as null or as a non-finite number depending on version and settings. */
function finiteOrNull(value: number | string | null | undefined): number | null {
  if (value === null || value === undefined) return null
  const number = Number(value)
  return Number.isFinite(number) ? number : null
}

const toNumber = (value: Int64): number => Number(value)
const emptyToNull = (value: string): string | null => (value === '' ? null : value)

// The sink writes `CODE: detail` or `CODE (detector_id): detail` (sinks/rows.ts toDecisionRow).
const REASON_PATTERN = /^([A-Z0-9_]+)(?: \(([^()]+)\))?: ([\s\S]*)$/

export function parseReason(text: string): DecisionReasonView {
  const match = REASON_PATTERN.exec(text)
  if (match === null) return { code: '', detectorId: null, detail: text }
  return { code: match[1] ?? '', detectorId: match[2] ?? null, detail: match[3] ?? '' }
}

const verdictKey = (withdrawalId: string, revision: number): string => `${withdrawalId}\u0000${revision}`

/** A decision row with its verdict row, when the sink wrote one (rows from before schema v2 have none). */
function toDecisionRecord(row: DecisionRow, verdicts: ReadonlyMap<string, VerdictRow>): DecisionRecord {
  const verdict = verdicts.get(verdictKey(row.withdrawal_id, row.revision))
  return {
    decisionId: row.decision_id,
    withdrawalId: row.withdrawal_id,
    revision: row.revision,
    playerId: row.player_id,
    outcome: row.outcome,
    playerReasonCode: row.player_reason_code,
    reasons: row.reasons.map(parseReason),
    actions: row.actions,
    amountMinor: toNumber(row.amount_minor),
    currency: row.currency,
    jurisdiction: row.jurisdiction,
    tier: row.tier,
    eventTimeMs: toNumber(row.event_time_ms),
    ruleSetVersion: row.rule_set_version,
    compositeScore: finiteOrNull(verdict?.composite_score),
    hardStop: emptyToNull(verdict?.hard_stop ?? ''),
    review: verdict === undefined || verdict.reviewer_id === '' ? null : { reviewerId: verdict.reviewer_id, caseId: emptyToNull(verdict.review_case_id), reasonCode: verdict.review_reason_code, eventId: verdict.review_event_id },
    clusterId: emptyToNull(row.cluster_id),
    latencyMs: finiteOrNull(row.latency_ms) ?? 0,
  }
}

/** The decision row's own execution arrays: used when its rule_executions rows are missing. */
function executionsFromDecisionRow(row: DecisionRow): ExecutionView[] {
  return row.executions_detector.map((detector, index) => {
    const at = detector.lastIndexOf('@')
    return {
      detectorId: at === -1 ? detector : detector.slice(0, at),
      detectorVersion: at === -1 ? 0 : Number(detector.slice(at + 1)),
      status: row.executions_status[index] ?? 'error',
      value: finiteOrNull(row.executions_value[index]),
      threshold: finiteOrNull(row.executions_threshold[index]),
      detail: null,
    }
  })
}

function toExecutionView(row: ExecutionRow): ExecutionView {
  return { detectorId: row.detector_id, detectorVersion: row.detector_version, status: row.status, value: finiteOrNull(row.value), threshold: finiteOrNull(row.threshold), detail: row.detail }
}

function toModelScoreView(row: ModelScoreRow): ModelScoreView {
  return {
    role: row.role === 'shadow' ? 'shadow' : 'champion',
    modelId: row.model_id,
    modelVersion: row.model_version,
    score: finiteOrNull(row.score) ?? 0,
    cutoff: finiteOrNull(row.cutoff),
    contributions: row.contributions_feature.map((feature, index) => ({ feature, contribution: finiteOrNull(row.contributions_value[index]) ?? 0 })),
  }
}

function toTransitionView(row: TransitionRow): TransitionView {
  return {
    transitionId: row.transition_id, withdrawalId: row.withdrawal_id, playerId: row.player_id, sequence: row.sequence,
    fromState: row.from_state, toState: row.to_state, causeType: row.cause_type, causeId: row.cause_id,
    eventTimeMs: toNumber(row.event_time_ms), attempt: row.attempt, detail: emptyToNull(row.detail),
  }
}

function toAlertView(row: AlertRow): AlertView {
  return {
    alertId: row.alert_id, playerId: row.player_id, detectorId: row.detector_id, detectorVersion: row.detector_version,
    severity: row.severity, action: row.action, eventTimeMs: toNumber(row.event_time_ms),
    value: finiteOrNull(row.value), threshold: finiteOrNull(row.threshold),
    windowStartMs: row.window_start_ms === null ? null : toNumber(row.window_start_ms),
    windowEndMs: row.window_end_ms === null ? null : toNumber(row.window_end_ms),
    evidenceEventIds: row.evidence_event_ids, ruleSetVersion: row.rule_set_version,
  }
}

function parsePayload(text: string): unknown {
  try {
    return JSON.parse(text) as unknown
  } catch {
    // The sink writes JSON; anything else is shown as the text it is rather than failing the page.
    return text
  }
}

function toEventView(row: EventRow): EventView {
  return {
    topic: row.topic, partition: row.partition, offset: String(row.offset), eventId: row.event_id,
    eventTimeMs: toNumber(row.event_time_ms), type: row.type, amountMinor: toNumber(row.amount_minor),
    currency: row.currency, payload: parsePayload(row.payload),
  }
}

/** 'casino.deposits.v1' (with any deployment prefix) -> 'deposit'. */
function topicNoun(topic: string): string {
  const match = /casino\.([a-z]+?)s?\.v\d+$/.exec(topic)
  return match?.[1] ?? topic
}

/** ' 495.00 EUR', or the minor units for a currency the table does not know; '' without an amount. */
function amountText(amountMinor: number, currency: string): string {
  if (currency === '') return ''
  return isKnownCurrency(currency) && Number.isSafeInteger(amountMinor) ? ` ${formatMinorUnits(amountMinor, currency)} ${currency}` : ` ${amountMinor} ${currency} minor units`
}

function decisionSummary(record: DecisionRecord): string {
  const first = record.reasons[0]
  const why = first === undefined ? '' : `: ${first.code === '' ? first.detail : first.code}`
  return `${record.outcome} withdrawal ${record.withdrawalId} (revision ${record.revision})${amountText(record.amountMinor, record.currency)}${why}`
}

const KIND_ORDER: Readonly<Record<TimelineKind, number>> = { transition: 0, decision: 1, alert: 2, event: 3 }

/** Newest first; at equal times the consequence before its cause (transition, decision, alert, event), then by id. */
function compareEntries(left: TimelineEntry, right: TimelineEntry): number {
  return right.atMs - left.atMs || KIND_ORDER[left.kind] - KIND_ORDER[right.kind] || (left.id < right.id ? 1 : left.id > right.id ? -1 : 0)
}

/** `type:identifier` as the sink writes shared identifiers; the identifier itself may contain ':'. */
function splitIdentifier(text: string): { type: string; identifier: string } {
  const colon = text.indexOf(':')
  return colon === -1 ? { type: 'unknown', identifier: text } : { type: text.slice(0, colon), identifier: text.slice(colon + 1) }
}

function timeRange(options: TimelineOptions): SqlQuery {
  const conditions: SqlQuery[] = []
  if (options.fromMs !== undefined) conditions.push(sql`event_time_ms >= ${options.fromMs}`)
  if (options.toMs !== undefined) conditions.push(sql`event_time_ms < ${options.toMs}`)
  return conditions.length === 0 ? sql`1` : joinSql(conditions, sql` AND `)
}

/**
 * The read model over the sink's tables (docs/clickhouse.md); needs migrations up to 003.
 * Example: `createClickHouseReadModel(createClickHouse(config.clickhouse)).alerts({ playerId: 'p-1', limit: 20 })`
 */
export function createClickHouseReadModel(clickhouse: ClickHouse, options: ClickHouseReadModelOptions = {}): ReadModel {
  const maxClusterPlayers = options.maxClusterPlayers ?? 500

  /** The verdict rows of these decisions, by withdrawal and revision (a second query: simpler than an 18.16 JOIN over FINAL). */
  async function verdictsOf(rows: readonly DecisionRow[]): Promise<Map<string, VerdictRow>> {
    if (rows.length === 0) return new Map()
    // A tuple, not an array literal: 18.16 refuses `IN [...]`.
    const withdrawalIds = [...new Set(rows.map((row) => row.withdrawal_id))]
    const verdicts = await clickhouse.query<VerdictRow>(sql`SELECT withdrawal_id, revision, composite_score, hard_stop, reviewer_id,
        review_case_id, review_reason_code, review_event_id
      FROM decision_verdicts FINAL WHERE withdrawal_id IN (${joinSql(withdrawalIds.map((id) => sql`${id}`))})`)
    return new Map(verdicts.map((verdict) => [verdictKey(verdict.withdrawal_id, verdict.revision), verdict]))
  }

  async function decisionRecords(rows: readonly DecisionRow[]): Promise<DecisionRecord[]> {
    const verdicts = await verdictsOf(rows)
    return rows.map((row) => toDecisionRecord(row, verdicts))
  }

  async function playerDecisions(playerId: string, page: PlayerDecisionsOptions): Promise<DecisionRecord[]> {
    const before = page.beforeMs === undefined ? sql`1` : sql`event_time_ms < ${page.beforeMs}`
    const rows = await clickhouse.query<DecisionRow>(sql`SELECT ${DECISION_COLUMNS} FROM decisions FINAL
      WHERE player_id = ${playerId} AND ${before}
      ORDER BY event_time_ms DESC, withdrawal_id DESC, revision DESC LIMIT ${page.limit}`)
    return decisionRecords(rows)
  }

  return {
    ping: () => clickhouse.ping(),

    async withdrawal(withdrawalId) {
      const [decisions, executions, scores, transitions] = await Promise.all([
        clickhouse.query<DecisionRow>(sql`SELECT ${DECISION_COLUMNS} FROM decisions FINAL WHERE withdrawal_id = ${withdrawalId} ORDER BY revision`),
        clickhouse.query<ExecutionRow>(sql`SELECT revision, execution_index, detector_id, detector_version, status, value, threshold, detail
          FROM rule_executions FINAL WHERE withdrawal_id = ${withdrawalId} ORDER BY revision, execution_index`),
        clickhouse.query<ModelScoreRow>(sql`SELECT revision, role, model_id, model_version, score, cutoff, contributions_feature, contributions_value
          FROM model_scores FINAL WHERE withdrawal_id = ${withdrawalId} ORDER BY revision, role, model_id, model_version`),
        clickhouse.query<TransitionRow>(sql`SELECT ${TRANSITION_COLUMNS} FROM withdrawal_events FINAL WHERE withdrawal_id = ${withdrawalId} ORDER BY sequence`),
      ])
      if (decisions.length === 0 && transitions.length === 0) return null
      const verdicts = await verdictsOf(decisions)
      const revisions = decisions.map((row): DecisionRevision => {
        const own = executions.filter((execution) => execution.revision === row.revision).map(toExecutionView)
        return {
          ...toDecisionRecord(row, verdicts),
          // rule_executions carries the detail; the decision row's arrays stand in while those rows are not in yet.
          executions: own.length > 0 ? own : executionsFromDecisionRow(row),
          models: scores.filter((score) => score.revision === row.revision).map(toModelScoreView),
        }
      })
      return {
        withdrawalId,
        playerId: decisions[0]?.player_id ?? transitions[0]?.player_id ?? '',
        revisions,
        transitions: transitions.map(toTransitionView),
      }
    },

    playerDecisions,

    async playerTimeline(playerId, page) {
      const range = timeRange(page)
      const newest = sql`ORDER BY event_time_ms DESC LIMIT ${page.limit}`
      // Each source gives at most `limit` newest entries; the merge keeps the newest `limit` of all.
      const [events, decisions, alerts, transitions] = await Promise.all([
        clickhouse.query<EventRow>(sql`SELECT topic, partition, offset, event_id, event_time_ms, type, amount_minor, currency, payload
          FROM events FINAL WHERE player_id = ${playerId} AND ${range} ${newest}`),
        clickhouse.query<DecisionRow>(sql`SELECT ${DECISION_COLUMNS} FROM decisions FINAL WHERE player_id = ${playerId} AND ${range} ${newest}`),
        clickhouse.query<AlertRow>(sql`SELECT ${ALERT_COLUMNS} FROM alerts FINAL WHERE player_id = ${playerId} AND ${range} ${newest}`),
        clickhouse.query<TransitionRow>(sql`SELECT ${TRANSITION_COLUMNS} FROM withdrawal_events FINAL WHERE player_id = ${playerId} AND ${range} ${newest}`),
      ])
      const entries: TimelineEntry[] = [
        ...events.map(toEventView).map((event): TimelineEntry => ({
          atMs: event.eventTimeMs, kind: 'event', id: event.eventId,
          summary: `${topicNoun(event.topic)} ${event.type}${amountText(event.amountMinor, event.currency)}`, data: event,
        })),
        ...(await decisionRecords(decisions)).map((decision): TimelineEntry => ({
          atMs: decision.eventTimeMs, kind: 'decision', id: decision.decisionId, summary: decisionSummary(decision), data: decision,
        })),
        ...alerts.map(toAlertView).map((alert): TimelineEntry => ({
          atMs: alert.eventTimeMs, kind: 'alert', id: alert.alertId,
          summary: `${alert.severity} alert ${alert.detectorId}@${alert.detectorVersion}${alert.value === null ? '' : `: ${alert.value}${alert.threshold === null ? '' : ` against ${alert.threshold}`}`}`,
          data: alert,
        })),
        ...transitions.map(toTransitionView).map((transition): TimelineEntry => ({
          atMs: transition.eventTimeMs, kind: 'transition', id: transition.transitionId,
          summary: `withdrawal ${transition.withdrawalId} ${transition.fromState} -> ${transition.toState} (${transition.causeType})`, data: transition,
        })),
      ]
      return entries.sort(compareEntries).slice(0, page.limit)
    },

    async alerts(filter) {
      const conditions: SqlQuery[] = [sql`1`]
      if (filter.playerId !== undefined) conditions.push(sql`player_id = ${filter.playerId}`)
      if (filter.detectorId !== undefined) conditions.push(sql`detector_id = ${filter.detectorId}`)
      const rows = await clickhouse.query<AlertRow>(sql`SELECT ${ALERT_COLUMNS} FROM alerts FINAL WHERE ${joinSql(conditions, sql` AND `)}
        ORDER BY event_time_ms DESC, alert_id DESC LIMIT ${filter.limit}`)
      return rows.map(toAlertView)
    },

    async cluster(clusterId) {
      // Each player's latest record (highest sequence) decides whether it is still in the cluster:
      // players who moved to another cluster or were erased since are left out.
      const rows = await clickhouse.query<ClusterRow & { latest_cluster_id: string; latest_erased: number }>(sql`SELECT player_id,
          argMax(cluster_id, sequence) AS latest_cluster_id, argMax(erased, sequence) AS latest_erased,
          argMax(risk, sequence) AS latest_risk, argMax(typologies, sequence) AS latest_typologies,
          argMax(shared_identifiers, sequence) AS latest_shared, argMax(community_id, sequence) AS latest_community_id,
          argMax(event_time_ms, sequence) AS latest_event_time_ms, argMax(size, sequence) AS latest_size
        FROM player_clusters FINAL
        WHERE player_id IN (SELECT player_id FROM player_clusters WHERE cluster_id = ${clusterId})
        GROUP BY player_id
        HAVING latest_cluster_id = ${clusterId} AND latest_erased = 0
        ORDER BY latest_risk DESC, player_id
        LIMIT ${maxClusterPlayers + 1}`)
      if (rows.length === 0) return null
      const players = rows.slice(0, maxClusterPlayers)
      const nodes: ClusterNode[] = []
      const edges: ClusterEdge[] = []
      const identifiers = new Map<string, ClusterNode>()
      for (const row of [...players].sort((left, right) => (left.player_id < right.player_id ? -1 : left.player_id > right.player_id ? 1 : 0))) {
        const playerNode = `player:${row.player_id}`
        nodes.push({ id: playerNode, kind: 'player', label: row.player_id, risk: finiteOrNull(row.latest_risk) ?? 0, typologies: row.latest_typologies, communityId: emptyToNull(row.latest_community_id) })
        for (const shared of row.latest_shared) {
          const { type, identifier } = splitIdentifier(shared)
          const identifierNode = `identifier:${type}:${identifier}`
          if (!identifiers.has(identifierNode)) identifiers.set(identifierNode, { id: identifierNode, kind: 'identifier', label: identifier, identifierType: type })
          edges.push({ source: playerNode, target: identifierNode, kind: type })
        }
      }
      nodes.push(...[...identifiers.values()].sort((left, right) => (left.id < right.id ? -1 : 1)))
      return {
        clusterId,
        size: Math.max(rows.length, ...rows.map((row) => row.latest_size)),
        asOfMs: Math.max(...players.map((row) => toNumber(row.latest_event_time_ms))),
        truncated: rows.length > maxClusterPlayers,
        nodes,
        edges,
      }
    },
  }
}
