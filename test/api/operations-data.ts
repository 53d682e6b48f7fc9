/**
 * Shared by the officers' route tests: a migrated database filled through the sink's own row
 * adapters (sinks/rows.ts), so the shapes are exactly what the sink writes. Built from the golden
 * fixtures, re-keyed to one player `p-7` and withdrawal `wd-7`.
 *
 *   wd-7 revision 1 REVIEW at T (rule hit + champion and shadow scores), revision 2 APPROVE by
 *   anna at T+60 s; transitions NONE -> PENDING -> RISK_SCORING -> AWAITING_REVIEW -> APPROVED;
 *   wd-8 revision 1 REVIEW at T+120 s (awaiting review); a deposit at T-10 s; an alert at T-5 s;
 *   cluster cmp:p-7 of p-7 and p-9 sharing a device, and p-8 who left it for cmp:p-8.
 */
import type { ClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { toAlertRow, toDecisionRow, toDecisionVerdictRow, toEventRow, toModelScoreRows, toPlayerClusterRow, toRuleExecutionRows, toWithdrawalEventRow, type RowMeta } from '../../sinks/rows.js'
import type { Alert, Decision, Deposit, PlayerCluster, WithdrawalTransition } from '../../schemas/generated/types.js'
import { loadFixture } from '../schemas/fixtures.js'

export const PLAYER = 'p-7'
export const T_MS = Date.UTC(2025, 0, 15, 9, 0, 0)

const meta = (offset: number): RowMeta => ({ latencyMs: 1.5, insertedAtMs: T_MS, source: { topic: 'casino.withdrawals.v1', partition: 0, offset: String(offset), timestampMs: T_MS } })

export function decision(withdrawalId: string, revision: number, changes: Partial<Decision> = {}): Decision {
  const base = loadFixture('decisions').value as Decision
  return { ...base, decisionId: `${withdrawalId}:${revision}`, withdrawalId, revision, playerId: PLAYER, clusterId: 'cmp:p-7', ...changes }
}

function transition(withdrawalId: string, sequence: number, fromState: string, toState: string, causeType: string, atMs: number): WithdrawalTransition {
  return { transitionId: `${withdrawalId}:${sequence}`, withdrawalId, playerId: PLAYER, sequence, fromState, toState, causeType, causeId: `cause-${sequence}`, eventTimeMs: atMs, attempt: toState === 'APPROVED' ? 1 : 0, detail: sequence === 1 ? null : `${toState} step` }
}

function cluster(playerId: string, clusterId: string, sequence: number, shared: PlayerCluster['sharedIdentifiers'], risk: number): PlayerCluster {
  const base = loadFixture('clusters').value as PlayerCluster
  return { ...base, eventId: `${clusterId}:${playerId}:${sequence}`, playerId, clusterId, sequence, sharedIdentifiers: shared, sharedIdentifierCount: shared.length, risk, size: 2 }
}

/** Migrates `database` and inserts the scenario above. */
export async function seedOperations(clickhouse: ClickHouse, database: string): Promise<void> {
  await migrate(clickhouse, database)
  const reviewed = decision('wd-7', 2, {
    outcome: 'APPROVE', eventTimeMs: T_MS + 60_000, reasons: [{ code: 'REVIEWER_APPROVED', detectorId: null, detail: 'anna in case CASE-1: DOCUMENTS_VERIFIED' }],
    executions: [], model: null, shadows: [], compositeScore: null, hardStop: null, review: { reviewerId: 'anna', caseId: 'CASE-1', reasonCode: 'DOCUMENTS_VERIFIED', eventId: 'review:wd-7:request:r1' },
  })
  const first = decision('wd-7', 1, { eventTimeMs: T_MS })
  const pending = decision('wd-8', 1, { eventTimeMs: T_MS + 120_000, executions: [], model: null, shadows: [] })
  const decisions = [first, reviewed, pending]
  await clickhouse.insert('decisions', decisions.map((value, index) => toDecisionRow(value, meta(index))))
  await clickhouse.insert('decision_verdicts', decisions.map((value, index) => toDecisionVerdictRow(value, meta(index))))
  // wd-8's executions rows are "not in yet": the decision row's arrays stand in.
  await clickhouse.insert('rule_executions', [first, reviewed].flatMap((value, index) => toRuleExecutionRows(value, meta(index))))
  await clickhouse.insert('model_scores', decisions.flatMap((value, index) => toModelScoreRows(value, meta(index))))
  const transitions = [
    transition('wd-7', 1, 'NONE', 'PENDING', 'WITHDRAWAL_REQUESTED', T_MS),
    transition('wd-7', 2, 'PENDING', 'RISK_SCORING', 'WITHDRAWAL_REQUESTED', T_MS),
    transition('wd-7', 3, 'RISK_SCORING', 'AWAITING_REVIEW', 'DECISION', T_MS),
    transition('wd-7', 4, 'AWAITING_REVIEW', 'APPROVED', 'REVIEW', T_MS + 60_000),
  ]
  await clickhouse.insert('withdrawal_events', transitions.map((value, index) => toWithdrawalEventRow(value, meta(index))))
  const deposit = { ...(loadFixture('deposits').value as Deposit), eventId: 'dep-evt-1', playerId: PLAYER, eventTimeMs: T_MS - 10_000 }
  await clickhouse.insert('events', [toEventRow('deposits', deposit, { ...meta(5), source: { ...meta(5).source, topic: 'ops.casino.deposits.v1' } })])
  const alert: Alert = { ...(loadFixture('alerts').value as Alert), alertId: 'deposit_structuring@1:dep-evt-1', playerId: PLAYER, eventTimeMs: T_MS - 5_000 }
  const otherAlert: Alert = { ...alert, alertId: 'rare_method@1:x', playerId: 'p-other', detectorId: 'rare_method' }
  await clickhouse.insert('alerts', [alert, otherAlert].map((value, index) => toAlertRow(value, meta(index))))
  const device = { identifierType: 'DEVICE', identifier: 'fp:9a1c77', playerCount: 2 } as const
  await clickhouse.insert('player_clusters', [
    cluster('p-7', 'cmp:p-7', 1, [device], 0.5),
    cluster('p-9', 'cmp:p-7', 1, [device, { identifierType: 'IP_BLOCK', identifier: '203.0.113.0/24', playerCount: 1 }], 0.25),
    cluster('p-8', 'cmp:p-7', 1, [device], 0.1),
    // p-8 moved on: its latest record names another cluster.
    cluster('p-8', 'cmp:p-8', 2, [], 0),
  ].map((value, index) => toPlayerClusterRow(value, meta(index))))
}
