/**
 * Shared by the STR and regulator route tests: a migrated ClickHouse database filled through the
 * sink's own row adapters (sinks/rows.ts), a case on the real case service, and an app wired
 * with the real governance parts and STR settings on that ClickHouse.
 *
 * Player p-1 (José Müller, MT) on 2025-01-14/15 (UTC): KYC in two players events (the second
 * changes only the KYC level), deposits dep-1 (card, 1950.00 EUR) and dep-2 (1990.00 EUR,
 * COMPLETED then CHARGEBACK), a transfer to p-2 (Anna Borg) and one from her, withdrawal wd-1
 * (REQUESTED) with decision wd-1:1 REVIEW (deposit_structuring hit, model contributions) and
 * its transitions; a dead letter; alerts of deposit_structuring that open CASE-00000001.
 */
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { Registry } from 'prom-client'
import { buildApp } from '../../api/app.js'
import { openAuditLog } from '../../api/audit.js'
import { ManualClock } from '../../core/clock.js'
import type { ClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { toAlertRow, toDeadLetterRow, toDecisionRow, toEventRow, toModelScoreRows, toRuleExecutionRows, toWithdrawalEventRow, type RowMeta } from '../../sinks/rows.js'
import type { Alert, DeadLetter, Decision, Deposit, PlayerChange, Transfer, Withdrawal, WithdrawalTransition } from '../../schemas/generated/types.js'
import { loadFixture } from '../schemas/fixtures.js'
import { AUTH, buildGovernanceParts, NO_LIMITS, START_MS, strTestSettings, type TestApp } from './helpers.js'

export const PLAYER = 'p-1'
export const COUNTERPARTY = 'p-2'
const HOUR_MS = 3_600_000
/** 2025-01-15 00:00 UTC: the day everything happens; START_MS (the app's clock) is 12:00 that day. */
export const DAY_MS = Date.UTC(2025, 0, 15)

let offset = 0
const meta = (topic: string, timestampMs: number): RowMeta => ({ latencyMs: 1, insertedAtMs: START_MS, source: { topic, partition: 0, offset: String(offset++), timestampMs } })

function playerChange(playerId: string, atMs: number, changes: Partial<PlayerChange>): PlayerChange {
  const base = loadFixture('players').value as PlayerChange
  const blank = Object.fromEntries(Object.keys(base).map((key) => [key, null])) as unknown as PlayerChange
  return { ...blank, eventId: `pl-${playerId}-${atMs}`, playerId, eventTimeMs: atMs, type: 'KYC_CHANGED', jurisdiction: 'MT', ...changes }
}

export function decision(withdrawalId: string, revision: number, changes: Partial<Decision> = {}): Decision {
  const base = loadFixture('decisions').value as Decision
  return {
    ...base, decisionId: `${withdrawalId}:${revision}`, withdrawalId, revision, playerId: PLAYER, clusterId: null, eventTimeMs: DAY_MS + 10 * HOUR_MS,
    amountMinor: 7_400_00, currency: 'EUR',
    executions: [
      { detectorId: 'deposit_structuring', detectorVersion: 1, status: 'HIT', value: 4, threshold: 3, detail: '4 deposits just under 2000.00 EUR' },
      { detectorId: 'withdrawal_velocity', detectorVersion: 1, status: 'NO_HIT', value: 1, threshold: 3, detail: null },
    ],
    ...changes,
  }
}

/** Migrates `database` and inserts the scenario above. */
export async function seedStrData(clickhouse: ClickHouse, database: string): Promise<void> {
  await migrate(clickhouse, database)
  const players = [
    playerChange(PLAYER, DAY_MS - 30 * 24 * HOUR_MS, { firstName: 'José', lastName: 'Müller', dateOfBirth: '1990-02-14', country: 'MT', kycStatus: 'PENDING', kycLevel: 1, tier: 'NEW' }),
    playerChange(PLAYER, DAY_MS - 24 * HOUR_MS, { kycStatus: 'VERIFIED', kycLevel: 2 }),
    playerChange(COUNTERPARTY, DAY_MS - 20 * 24 * HOUR_MS, { firstName: 'Anna', lastName: 'Borg', country: 'MT' }),
  ]
  const deposit = loadFixture('deposits').value as Deposit
  const deposits: Deposit[] = [
    { ...deposit, eventId: 'evt-dep-1', playerId: PLAYER, depositId: 'dep-1', eventTimeMs: DAY_MS + HOUR_MS, amountMinor: 1_950_00 },
    { ...deposit, eventId: 'evt-dep-2', playerId: PLAYER, depositId: 'dep-2', eventTimeMs: DAY_MS + 2 * HOUR_MS, amountMinor: 1_990_00 },
    { ...deposit, eventId: 'evt-dep-2b', playerId: PLAYER, depositId: 'dep-2', eventTimeMs: DAY_MS + 3 * HOUR_MS, amountMinor: 1_990_00, status: 'CHARGEBACK' },
    // Outside the case window (40 days before): never in scope.
    { ...deposit, eventId: 'evt-dep-old', playerId: PLAYER, depositId: 'dep-old', eventTimeMs: DAY_MS - 40 * 24 * HOUR_MS, amountMinor: 5_00 },
  ]
  const transfer = loadFixture('transfers').value as Transfer
  const transfers: Transfer[] = [
    { ...transfer, eventId: 'evt-tr-1', playerId: PLAYER, toPlayerId: COUNTERPARTY, transferId: 'tr-1', eventTimeMs: DAY_MS + 4 * HOUR_MS, amountMinor: 500_00, kind: 'P2P' },
    { ...transfer, eventId: 'evt-tr-2', playerId: COUNTERPARTY, toPlayerId: PLAYER, transferId: 'tr-2', eventTimeMs: DAY_MS + 5 * HOUR_MS, amountMinor: 1_00, kind: 'TIP' },
  ]
  const withdrawal: Withdrawal = { ...(loadFixture('withdrawals').value as Withdrawal), eventId: 'evt-wd-1', playerId: PLAYER, withdrawalId: 'wd-1', eventTimeMs: DAY_MS + 10 * HOUR_MS, amountMinor: 7_400_00 }
  await clickhouse.insert('events', [
    ...players.map((value) => toEventRow('players', value, meta('casino.players.v1', value.eventTimeMs))),
    ...deposits.map((value) => toEventRow('deposits', value, meta('casino.deposits.v1', value.eventTimeMs))),
    ...transfers.map((value) => toEventRow('transfers', value, meta('casino.transfers.v1', value.eventTimeMs))),
    toEventRow('withdrawals', withdrawal, meta('casino.withdrawals.v1', withdrawal.eventTimeMs)),
  ])
  const decisions = [decision('wd-1', 1), decision('wd-9', 1, { outcome: 'APPROVE', eventTimeMs: DAY_MS + 11 * HOUR_MS, amountMinor: 100_00, executions: [], model: null, shadows: [] })]
  await clickhouse.insert('decisions', decisions.map((value) => toDecisionRow(value, meta('risk.decisions.v1', value.eventTimeMs))))
  await clickhouse.insert('rule_executions', decisions.flatMap((value) => toRuleExecutionRows(value, meta('risk.decisions.v1', value.eventTimeMs))))
  await clickhouse.insert('model_scores', decisions.flatMap((value) => toModelScoreRows(value, meta('risk.decisions.v1', value.eventTimeMs))))
  const transitions: WithdrawalTransition[] = [
    { transitionId: 'wd-1:1', withdrawalId: 'wd-1', playerId: PLAYER, sequence: 1, fromState: 'NONE', toState: 'PENDING', causeType: 'WITHDRAWAL_REQUESTED', causeId: 'evt-wd-1', eventTimeMs: DAY_MS + 10 * HOUR_MS, attempt: 0, detail: null },
    { transitionId: 'wd-1:2', withdrawalId: 'wd-1', playerId: PLAYER, sequence: 2, fromState: 'PENDING', toState: 'AWAITING_REVIEW', causeType: 'DECISION', causeId: 'wd-1:1', eventTimeMs: DAY_MS + 10 * HOUR_MS, attempt: 0, detail: 'REVIEW, "held", <funds>' },
  ]
  await clickhouse.insert('withdrawal_events', transitions.map((value) => toWithdrawalEventRow(value, meta('risk.withdrawal-events.v1', value.eventTimeMs))))
  await clickhouse.insert('alerts', caseAlerts().map((value) => toAlertRow(value, meta('risk.alerts.v1', value.eventTimeMs))))
  const deadLetter = { ...(loadFixture('deadLetters').value as DeadLetter), sourceTimestampMs: DAY_MS + 8 * HOUR_MS }
  await clickhouse.insert('dead_letters', [toDeadLetterRow(deadLetter, meta('risk.dlq.v1', deadLetter.sourceTimestampMs))])
}

/** The alerts behind the case (deposit_structuring on p-1, naming decision wd-1:1). */
export function caseAlerts(): Alert[] {
  const alert = loadFixture('alerts').value as Alert
  return [
    { ...alert, alertId: 'deposit_structuring@1:evt-dep-2', playerId: PLAYER, detectorId: 'deposit_structuring', eventTimeMs: DAY_MS + 2 * HOUR_MS },
    { ...alert, alertId: 'withdrawal_velocity@1:evt-wd-1', playerId: PLAYER, detectorId: 'withdrawal_velocity', severity: 'MEDIUM', eventTimeMs: DAY_MS + 10 * HOUR_MS },
  ]
}

export interface StrTestApp extends TestApp {
  /** The case opened by caseAlerts(). */
  readonly caseId: string
  readonly governance: Awaited<ReturnType<typeof buildGovernanceParts>>['governance']
}

/** buildApp on the real governance parts, STR settings on `clickhouse`, a temp audit log; the case from caseAlerts() ingested. */
export async function buildStrTestApp(clickhouse: ClickHouse): Promise<StrTestApp> {
  const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'pitboss-api-str-'))
  const clock = new ManualClock(START_MS)
  const audit = await openAuditLog({ path: path.join(directory, 'audit.jsonl'), clock })
  const parts = await buildGovernanceParts(directory, clock).catch(async (error: unknown) => {
    await audit.close()
    fs.rmSync(directory, { recursive: true, force: true })
    throw error
  })
  const { close: closeGovernance, governance } = parts
  const withStr = { ...governance, str: strTestSettings(directory, clickhouse) }
  let caseId = ''
  for (const alert of caseAlerts()) caseId = (await governance.cases.ingestAlert({ ...alert, decisionIds: alert.detectorId === 'withdrawal_velocity' ? ['wd-1:1'] : [] })).caseId
  const app = buildApp({ metrics: new Registry(), version: 'test', checks: {}, auth: AUTH, rateLimits: NO_LIMITS, audit, clock, governance: withStr })
  return {
    app, audit, clock, directory, caseId, governance: withStr,
    async close() {
      await app.close()
      await audit.close()
      await closeGovernance()
      fs.rmSync(directory, { recursive: true, force: true })
    },
  }
}
