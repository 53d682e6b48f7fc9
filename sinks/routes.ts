/**
 * Which topic feeds which ClickHouse tables: the ClickHouse sink's one list of routes.
 *
 * A route names a topic with an Avro schema and, for each table it feeds, an adapter from one
 * decoded record to that table's rows (none, one or several: a decision gives one `decisions`
 * row, one `rule_executions` row per detector execution and one `model_scores` row per model).
 * Adding a topic is one entry here (plus its table in a new migration and a line in
 * docs/clickhouse.md); the sink subscribes to every routed topic and commits a record's offset
 * only once the rows of every table of its batch are in.
 *
 * Example:
 *   route('caseEvents', { case_events: one(toCaseEventRow) })
 *   route('decisions', { decisions: one(toDecisionRow), rule_executions: toRuleExecutionRows })
 */
import { RiskError } from '../core/errors.js'
import { TOPICS, type CasinoTopicKey } from '../core/topics.js'
import type { WireValue } from '../schemas/codec.js'
import type { SchemaTopicKey } from '../schemas/catalog.js'
import { isIdentifier } from './clickhouse/sql.js'
import {
  toAlertRow, toAuditLogRow, toCaseEventRow, toLabelRow, toPlayerClusterRow, toWithdrawalEventRow, toDeadLetterRow, toDecisionRow, toDecisionVerdictRow, toEventRow, toLedgerCommandRow, toModelScoreRows, toPayoutCommandRow, toRuleExecutionRows, toStrReportRows,
  type Row, type RowMeta,
} from './rows.js'

/** Rows of one table from one record. */
export type TableAdapter<V> = (value: V, meta: RowMeta) => readonly Row[]

export interface SinkRoute<K extends SchemaTopicKey = SchemaTopicKey> {
  readonly topic: K
  /** Table name -> the adapter giving that table's rows for one record. */
  readonly tables: Readonly<Record<string, TableAdapter<WireValue<K>>>>
}

/**
 * A route with its value type erased, so routes of different topics share one list; the sink
 * hands each adapter the value decoded with its own route's topic.
 */
export interface AnySinkRoute {
  readonly topic: SchemaTopicKey
  readonly tables: Readonly<Record<string, (value: never, meta: RowMeta) => readonly Row[]>>
}

/** Declares a route; the adapters are type-checked against the topic's wire type. */
export function route<K extends SchemaTopicKey>(topic: K, tables: Readonly<Record<string, TableAdapter<WireValue<K>>>>): AnySinkRoute {
  return Object.freeze({ topic, tables: Object.freeze({ ...tables }) }) as AnySinkRoute
}

/** Lifts a one-row adapter to a table adapter. */
export function one<V>(adapter: (value: V, meta: RowMeta) => Row): TableAdapter<V> {
  return (value, meta) => [adapter(value, meta)]
}

const events = <K extends CasinoTopicKey>(topic: K): SinkRoute<K>['tables'] => ({ events: (value, meta) => [toEventRow(topic, value, meta)] })

export const SINK_ROUTES: readonly AnySinkRoute[] = checkedRoutes([
  route('players', events('players')),
  route('devices', events('devices')),
  route('deposits', events('deposits')),
  route('transfers', events('transfers')),
  route('bets', events('bets')),
  route('withdrawals', events('withdrawals')),
  route('decisions', { decisions: one(toDecisionRow), decision_verdicts: one(toDecisionVerdictRow), rule_executions: toRuleExecutionRows, model_scores: toModelScoreRows }),
  route('alerts', { alerts: one(toAlertRow) }),
  route('payoutCommands', { payout_commands: one(toPayoutCommandRow) }),
  route('ledgerCommands', { ledger_commands: one(toLedgerCommandRow) }),
  route('deadLetters', { dead_letters: one(toDeadLetterRow) }),
  route('withdrawalEvents', { withdrawal_events: one(toWithdrawalEventRow) }),
  route('caseEvents', { case_events: one(toCaseEventRow) }),
  route('labels', { labels: one(toLabelRow) }),
  route('clusters', { player_clusters: one(toPlayerClusterRow) }),
  route('auditEntries', { audit_log: one(toAuditLogRow), str_reports: toStrReportRows }),
])

/**
 * Refuses a topic routed twice (its records would be read by one consumer but split between two
 * lists of tables) and table names that are not plain identifiers. Runs when the list is built,
 * so a bad route fails at start.
 */
export function checkedRoutes(routes: readonly AnySinkRoute[]): readonly AnySinkRoute[] {
  const seen = new Set<SchemaTopicKey>()
  for (const entry of routes) {
    if (seen.has(entry.topic)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `topic '${entry.topic}' (${TOPICS[entry.topic].name}) is routed twice in the sink's routes; merge its tables into one route`, { topic: entry.topic })
    seen.add(entry.topic)
    const tables = Object.keys(entry.tables)
    if (tables.length === 0) throw new RiskError('RISK_ERR_CONFIG_INVALID', `the route of '${entry.topic}' names no table`, { topic: entry.topic })
    for (const table of tables) {
      if (!isIdentifier(table)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `table '${table}' of the route of '${entry.topic}' is not a plain name (letters, digits, '_')`, { topic: entry.topic })
    }
  }
  return Object.freeze([...routes])
}

/** Every table the routes write, sorted (for the migration test and docs/clickhouse.md). */
export function routedTables(routes: readonly AnySinkRoute[] = SINK_ROUTES): string[] {
  return [...new Set(routes.flatMap((entry) => Object.keys(entry.tables)))].sort()
}
