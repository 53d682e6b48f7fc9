/**
 * Distinct records for every topic the ClickHouse sink reads, made from the golden fixtures by
 * varying their ids, and how many rows each gives per table. For tests that push many records
 * through the sink and count what arrives.
 *
 * Example:
 *   const value = variedRecord('decisions', 7)      // the fixture decision for withdrawal wd-7
 *   rowsPerRecord('decisions')                      // { decisions: 1, rule_executions: 3, model_scores: 2 }
 */
import type { SchemaTopicKey } from '../../schemas/catalog.js'
import { SINK_ROUTES } from '../../sinks/routes.js'
import { loadFixture } from '../schemas/fixtures.js'

type Value = Record<string, unknown>

const fixtures = new Map<SchemaTopicKey, Value>()
function fixture(topic: SchemaTopicKey): Value {
  let value = fixtures.get(topic)
  if (value === undefined) {
    value = loadFixture(topic).value as Value
    fixtures.set(topic, value)
  }
  return value
}

/** The fixture of `topic` with ids made unique by `index` (and player ids spread over 64 players). */
export function variedRecord(topic: SchemaTopicKey, index: number): Value {
  const base = fixture(topic)
  const playerId = `pl-${index % 64}`
  const withdrawalId = `wd-${index}`
  switch (topic) {
    case 'players': case 'devices': case 'deposits': case 'transfers': case 'bets': case 'withdrawals':
      return { ...base, eventId: `${String(base.eventId)}-${index}`, playerId, eventTimeMs: Number(base.eventTimeMs) + index }
    case 'decisions':
      return { ...base, withdrawalId, decisionId: `${withdrawalId}:1`, playerId, eventTimeMs: Number(base.eventTimeMs) + index }
    case 'alerts':
      return { ...base, alertId: `${String(base.alertId)}-${index}`, playerId }
    case 'payoutCommands': case 'ledgerCommands':
      return { ...base, withdrawalId, playerId, commandId: `${String(base.commandId)}-${index}`, idempotencyKey: `wd:${withdrawalId}:${String(base.operation)}:1`, decisionId: `${withdrawalId}:1` }
    case 'deadLetters':
      return { ...base, dlqId: `${String(base.dlqId)}-${index}`, sourceOffset: index }
    case 'withdrawalEvents':
      return { ...base, withdrawalId, playerId, transitionId: `${withdrawalId}:${String(base.sequence)}`, eventTimeMs: Number(base.eventTimeMs) + index }
    case 'caseEvents':
      return { ...base, eventId: `${String(base.eventId)}-${index}`, caseId: `case-${index}`, sequence: index, occurredAtMs: Number(base.occurredAtMs) + index }
    case 'labels':
      return { ...base, labelId: `${String(base.labelId)}-${index}`, caseId: `case-${index}`, playerId }
    case 'clusters':
      return { ...base, eventId: `${String(base.eventId)}-${index}`, playerId, sequence: index, eventTimeMs: Number(base.eventTimeMs) + index }
    case 'auditEntries':
      // Each line its own hash (the tables' identity); an STR export, so str_reports gets a row too.
      return { ...base, sequence: index + 1, hash: `${String(base.hash).slice(0, 56)}${index.toString(16).padStart(8, '0')}`, entityId: `str-case-${index}-1` }
    default:
      throw new Error(`no varied record for ${topic}`)
  }
}

/** The Kafka key the engine or operator would use. */
export function keyOf(topic: SchemaTopicKey, value: Value): string {
  return String(value.withdrawalId ?? value.playerId ?? value.dlqId)
}

/** Rows one varied record of `topic` gives in each table of its route. */
export function rowsPerRecord(topic: SchemaTopicKey): Record<string, number> {
  const entry = SINK_ROUTES.find((candidate) => candidate.topic === topic)
  if (entry === undefined) throw new Error(`${topic} is not routed`)
  const meta = { latencyMs: 0, insertedAtMs: 0, source: { topic, partition: 0, offset: '0', timestampMs: 0 } }
  return Object.fromEntries(Object.entries(entry.tables).map(([table, toRows]) => [table, toRows(variedRecord(topic, 0) as never, meta).length]))
}
