import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../core/errors.js'
import { CASINO_TOPIC_KEYS } from '../../core/topics.js'
import type { Decision } from '../../schemas/generated/types.js'
import { SINK_ROUTES, checkedRoutes, one, route, routedTables } from '../../sinks/routes.js'
import { toAlertRow } from '../../sinks/rows.js'
import { loadFixture } from '../schemas/fixtures.js'

const meta = { latencyMs: 0, insertedAtMs: 0, source: { topic: 'risk.decisions.v1', partition: 0, offset: '0', timestampMs: 0 } }

function configError(action: () => unknown): string {
  try {
    action()
  } catch (error) {
    if (isRiskError(error, 'RISK_ERR_CONFIG_INVALID')) return error.message
    throw error
  }
  return expect.fail('expected RISK_ERR_CONFIG_INVALID')
}

describe('SINK_ROUTES', () => {
  it('route the six casino topics to events and every output to its tables', () => {
    const tablesOf = Object.fromEntries(SINK_ROUTES.map((entry) => [entry.topic, Object.keys(entry.tables)]))
    for (const topic of CASINO_TOPIC_KEYS) expect(tablesOf[topic], topic).toEqual(['events'])
    expect(tablesOf).toMatchObject({
      decisions: ['decisions', 'decision_verdicts', 'rule_executions', 'model_scores'],
      alerts: ['alerts'],
      payoutCommands: ['payout_commands'],
      ledgerCommands: ['ledger_commands'],
      deadLetters: ['dead_letters'],
      withdrawalEvents: ['withdrawal_events'],
      caseEvents: ['case_events'],
      labels: ['labels'],
      clusters: ['player_clusters'],
      auditEntries: ['audit_log', 'str_reports'],
    })
    expect(routedTables()).toContain('events')
  })

  it('turn one decision into rows of four tables', () => {
    const decisions = SINK_ROUTES.find((entry) => entry.topic === 'decisions')!
    const decision = loadFixture('decisions', 1).value as Decision
    const counts = Object.fromEntries(Object.entries(decisions.tables).map(([table, toRows]) => [table, toRows(decision as never, meta).length]))
    expect(counts).toEqual({ decisions: 1, decision_verdicts: 1, rule_executions: 3, model_scores: 1 })
  })
})

describe('checkedRoutes', () => {
  it('refuses a topic routed twice, a route without tables and a table name that is not plain', () => {
    expect(configError(() => checkedRoutes([route('alerts', { alerts: one(toAlertRow) }), route('alerts', { alerts_copy: one(toAlertRow) })]))).toContain("topic 'alerts' (risk.alerts.v1) is routed twice")
    expect(configError(() => checkedRoutes([route('alerts', {})]))).toContain('names no table')
    expect(configError(() => checkedRoutes([route('alerts', { 'alerts; DROP': one(toAlertRow) })]))).toContain("table 'alerts; DROP'")
  })
})
