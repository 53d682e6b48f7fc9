/**
 * The rescreen library on a real ClickHouse (own process): which players it finds and with what
 * event time, the instructions it makes (deterministic per list set), batching and the dry run,
 * and the alerts it counts. The command against a running engine and sink is
 * test/integration/rescreen.test.ts.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { bet, player } from '../../bench/events.js'
import type { ClickHouse } from '../../sinks/clickhouse/client.js'
import { migrate } from '../../sinks/clickhouse/migrate.js'
import { toAlertRow, toEventRow } from '../../sinks/rows.js'
import { toInputEvent } from '../../schemas/adapters.js'
import type { Alert, ScreeningInstruction } from '../../schemas/generated/types.js'
import { describeListVersions, knownPlayers, listFingerprint, rescreenAlerts, rescreenPlayers, type InstructionSink } from '../../screening/rescreen.js'
import { useLocalClickHouse } from '../sinks/clickhouse/local-server.js'

const server = useLocalClickHouse()
const PREFIX = 't1.'
const LISTS = { 'ofac-sdn': 'sha256:a1665a897792', 'watchlist-internal': 'sha256:0123456789ab' }
const FINGERPRINT = listFingerprint(LISTS)
let clickhouse: ClickHouse
let offset = 0

const meta = (topic: string) => ({ latencyMs: 0, insertedAtMs: 1_700_000_000_000, source: { topic, partition: 0, offset: String(offset++), timestampMs: 1_700_000_000_000 } })

beforeAll(async () => {
  clickhouse = server.connect('screening_rescreen')
  await migrate(clickhouse, 'screening_rescreen')
  await clickhouse.insert('events', [
    toEventRow('players', player({ playerId: 'p-2', eventTimeMs: 5_000 }), meta(`${PREFIX}casino.players.v1`)),
    toEventRow('players', player({ playerId: 'p-1', eventTimeMs: 1_000 }), meta(`${PREFIX}casino.players.v1`)),
    toEventRow('players', player({ playerId: 'p-1', eventTimeMs: 2_000, type: 'PROFILE_UPDATED' }), meta(`${PREFIX}casino.players.v1`)),
    toEventRow('bets', bet({ playerId: 'p-1', eventTimeMs: 9_000 }), meta(`${PREFIX}casino.bets.v1`)),
    // a player known only from a bet is not screened (no KYC name was ever given)
    toEventRow('bets', bet({ playerId: 'p-bets-only', eventTimeMs: 3_000 }), meta(`${PREFIX}casino.bets.v1`)),
    // another deployment's topics in the same table
    toEventRow('players', player({ playerId: 'p-other-tenant', eventTimeMs: 1_000 }), meta('t2.casino.players.v1')),
    toEventRow('bets', bet({ playerId: 'p-2', eventTimeMs: 99_000 }), meta('t2.casino.bets.v1')),
  ])
  const alertRow = (alertId: string, playerId: string, detectorId: string, evidence: string) =>
    toAlertRow(sanctionsAlert(alertId, playerId, detectorId, evidence), meta(`${PREFIX}risk.alerts.v1`))
  await clickhouse.insert('alerts', [
    alertRow(`sanctions_potential_match@2:rescreen:${FINGERPRINT}:p-1`, 'p-1', 'sanctions_potential_match', `rescreen:${FINGERPRINT}:p-1`),
    alertRow('sanctions_potential_match@2:rescreen:0000000000000000:p-2', 'p-2', 'sanctions_potential_match', 'rescreen:0000000000000000:p-2'),
    alertRow(`deposit_structuring@1:rescreen:${FINGERPRINT}:p-2`, 'p-2', 'deposit_structuring', `rescreen:${FINGERPRINT}:p-2`),
  ])
}, 120_000)

function sanctionsAlert(alertId: string, playerId: string, detectorId: string, evidence: string): Alert {
  return {
    alertId, playerId, detectorId, detectorVersion: 2, severity: 'HIGH', action: 'hold_for_review', eventTimeMs: 9_000, value: 0.9, threshold: 0.84,
    windowStartMs: null, windowEndMs: null, evidenceEventIds: [evidence], ruleSetVersion: 'rs-1', clusterId: null, amountMinor: null, currency: null, decisionId: null,
  }
}

const collecting = (): InstructionSink & { batches: ScreeningInstruction[][] } => {
  const batches: ScreeningInstruction[][] = []
  return { batches, send: async (instructions) => { batches.push([...instructions]) }, close: async () => {} }
}

describe('rescreen', () => {
  it('finds the players of this deployment with a players record, with their latest event time on any input topic', async () => {
    expect(await knownPlayers(clickhouse, { topicPrefix: PREFIX })).toEqual([{ playerId: 'p-1', latestEventTimeMs: 9_000 }, { playerId: 'p-2', latestEventTimeMs: 5_000 }])
    expect(await knownPlayers(clickhouse, { topicPrefix: 'nobody.' })).toEqual([])
  })

  it('produces one RESCREEN per player in batches, with eventIds fixed by the lists and the player', async () => {
    const players = await knownPlayers(clickhouse, { topicPrefix: PREFIX })
    const sink = collecting()
    const progress: number[] = []
    const summary = await rescreenPlayers({ players, listVersions: LISTS, sink, batchSize: 1, onProgress: (done) => progress.push(done) })
    expect(summary).toEqual({ players: 2, produced: 2, fingerprint: FINGERPRINT, listVersions: LISTS, dryRun: false })
    expect(progress).toEqual([1, 2])
    expect(sink.batches.map((batch) => batch.map((instruction) => instruction.eventId))).toEqual([[`rescreen:${FINGERPRINT}:p-1`], [`rescreen:${FINGERPRINT}:p-2`]])
    const [first] = sink.batches[0] ?? []
    expect(first).toEqual({ eventId: `rescreen:${FINGERPRINT}:p-1`, playerId: 'p-1', eventTimeMs: 9_000, type: 'RESCREEN', listVersion: describeListVersions(LISTS), listId: null, entryId: null, officerId: null, caseId: null, note: `rescreen after a list update (lists ${FINGERPRINT})` })
    // what the engine will read
    expect(toInputEvent('screening', first as ScreeningInstruction)).toMatchObject({ ok: true, event: { kind: 'screening', type: 'RESCREEN' } })
    // the same lists give the same instructions; another version another fingerprint
    const again = collecting()
    await rescreenPlayers({ players, listVersions: { ...LISTS }, sink: again, batchSize: 1000 })
    expect(again.batches.flat()).toEqual(sink.batches.flat())
    expect(listFingerprint({ ...LISTS, 'ofac-sdn': 'sha256:ffffffffffff' })).not.toBe(FINGERPRINT)
    expect(listFingerprint({ 'watchlist-internal': LISTS['watchlist-internal'], 'ofac-sdn': LISTS['ofac-sdn'] })).toBe(FINGERPRINT)
  })

  it('produces nothing in a dry run, and counts', async () => {
    const summary = await rescreenPlayers({ players: await knownPlayers(clickhouse, { topicPrefix: PREFIX }), listVersions: LISTS, sink: null, batchSize: 10 })
    expect(summary).toMatchObject({ players: 2, produced: 0, dryRun: true })
  })

  it('counts the sanctions alerts whose evidence is this rescreen', async () => {
    expect((await rescreenAlerts(clickhouse, FINGERPRINT)).map((row) => [row.playerId, row.detectorId])).toEqual([['p-1', 'sanctions_potential_match']])
    await expect(rescreenAlerts(clickhouse, "x' OR 1=1")).rejects.toThrow(/hex digits/)
  })
})
