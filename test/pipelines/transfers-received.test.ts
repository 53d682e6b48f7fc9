/**
 * Issue 3, pass-through via transfers received, through the whole in-memory pipeline: the
 * sender's partition task re-keys a transfer to risk.transfers-received.v1, the memory driver
 * feeds it to the receiver's partition, and the receiver's pass_through counts it as an inflow.
 *
 * Events are produced in two steps (the sender's, then the receiver's) as they would arrive
 * live, hours apart; one test produces everything at once to show what happens when the
 * receiver's partition runs ahead of the sender's (docs/detectors.md).
 */
import { describe, expect, it } from 'vitest'
import { bet, deposit, player, transfer, withdrawal } from '../../bench/events.js'
import { partitionForKey } from '../../core/partitioner.js'
import type { Decision, TransferReceived } from '../../schemas/generated/types.js'
import { HOUR_MS, MINUTE_MS, shippedRuleSetWith } from '../detectors/scenario.js'
import { testPipeline, type TestPipeline } from '../support/pipeline.js'

const PARTITIONS = 4

/** The first id `prefix-N` whose partition satisfies `wanted`. */
function playerOn(prefix: string, wanted: (partition: number) => boolean): string {
  for (let index = 0; ; index += 1) {
    const playerId = `${prefix}-${index}`
    if (wanted(partitionForKey(playerId, PARTITIONS))) return playerId
  }
}

// The receiver on a LOWER partition than the sender: the driver's turns reach it first, the harder case.
const SENDER = playerOn('sender', (partition) => partition === 3)
const RECEIVER = playerOn('receiver', (partition) => partition === 1)

async function pipeline(): Promise<TestPipeline> {
  // The shipped rule set leaves transfers received out (see docs/detectors.md): switched on here.
  const ruleSet = shippedRuleSetWith(['pass_through'])
  const passThrough = ruleSet.detectors.pass_through as { params: Record<string, unknown> }
  passThrough.params = { ...passThrough.params, inflowTransferKinds: ['P2P', 'TIP', 'CHIP_TRANSFER'] }
  const test = await testPipeline({ partitions: PARTITIONS, ruleSet })
  for (const playerId of [SENDER, RECEIVER]) test.send('players', player({ playerId, eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
  return test
}

/** A deposits 2500.00 and sends 2000.00 P2P to B at 01:00. */
function sendTransfer(test: TestPipeline): void {
  test.send('deposits', deposit({ playerId: SENDER, depositId: 'd-a', eventTimeMs: 30 * MINUTE_MS, amountMinor: 2_500_00 }))
  test.send('transfers', transfer({ playerId: SENDER, toPlayerId: RECEIVER, transferId: 'tr-1', eventTimeMs: HOUR_MS, amountMinor: 2_000_00 }))
}

/** B settles bets of these stakes from 01:10 and asks for 1900.00 at 02:00. */
function playAndWithdraw(test: TestPipeline, stakes: readonly number[]): void {
  stakes.forEach((stakeMinor, index) => test.send('bets', bet({ playerId: RECEIVER, betId: `b-${index}`, eventTimeMs: HOUR_MS + (10 + index) * MINUTE_MS, stakeMinor })))
  test.send('withdrawals', withdrawal({ playerId: RECEIVER, withdrawalId: 'w-b', eventTimeMs: 2 * HOUR_MS, amountMinor: 1_900_00 }))
}

const decisionOf = async (test: TestPipeline, withdrawalId: string): Promise<Decision | undefined> => (await test.decisions()).find((decision) => decision.withdrawalId === withdrawalId)

describe('transfers received, through the memory driver', () => {
  it('re-keys the transfer to the receiver, deterministically, and feeds it to the receiver\'s partition', async () => {
    const test = await pipeline()
    sendTransfer(test)
    await test.driver.run()
    const messages = test.driver.output('transfersReceived')
    expect(messages.map((message) => [message.key?.toString(), message.partition])).toEqual([[RECEIVER, 1]])
    expect(await test.outputs<TransferReceived>('transfersReceived')).toEqual([{
      eventId: 'ev:tr-1', playerId: RECEIVER, eventTimeMs: HOUR_MS, transferId: 'tr-1', transferKind: 'P2P', fromPlayerId: SENDER, amountMinor: 2_000_00, currency: 'EUR', tableId: null,
      sourceTopic: 'casino.transfers.v1', sourcePartition: 3, sourceOffset: 0,
    }])
    expect(await test.deadLetters()).toEqual([])
  })

  it('B received 2000.00 from A, bet 30.00 and withdraws 1900.00: pass_through HIT naming the transfer', async () => {
    const test = await pipeline()
    sendTransfer(test)
    await test.driver.run()
    playAndWithdraw(test, [10_00, 10_00, 10_00])
    await test.driver.run()
    const decision = await decisionOf(test, 'w-b')
    expect(decision).toMatchObject({ playerId: RECEIVER, outcome: 'REVIEW' })
    expect(decision?.executions).toEqual([{
      detectorId: 'pass_through', detectorVersion: 2, status: 'HIT', value: 0.015, threshold: 0.25,
      detail: 'wagered 3000 of 200000 EUR minor units that came in within 48 h (0 deposited, 200000 received from other players; ratio 0.0150, hit below 0.25); 190000 out since the first inflow (hit from 0.5 of inflows)',
    }])
    const alert = (await test.outputs<{ playerId: string; detectorId: string; evidenceEventIds: string[] }>('alerts')).find((entry) => entry.playerId === RECEIVER)
    expect(alert).toMatchObject({ detectorId: 'pass_through', evidenceEventIds: ['ev:tr-1', 'ev:w-b'] })
    expect(await test.deadLetters()).toEqual([])
  })

  it('with heavy wagering (1000.00 of the 2000.00) the same withdrawal is NO_HIT', async () => {
    const test = await pipeline()
    sendTransfer(test)
    await test.driver.run()
    playAndWithdraw(test, [500_00, 500_00])
    await test.driver.run()
    const decision = await decisionOf(test, 'w-b')
    expect(decision?.executions).toMatchObject([{ detectorId: 'pass_through', status: 'NO_HIT', value: 0.5 }])
    expect(decision?.outcome).toBe('APPROVE')
  })

  it('a replayed transfer (the sender\'s partition rebuilt from offset 0) is re-emitted byte for byte and counted once', async () => {
    const test = await pipeline()
    sendTransfer(test)
    await test.driver.run()
    // The same transfer redelivered: the sender's task sees it again at a new offset.
    test.send('transfers', transfer({ playerId: SENDER, toPlayerId: RECEIVER, transferId: 'tr-1', eventTimeMs: HOUR_MS, amountMinor: 2_000_00 }))
    await test.driver.run()
    const [first, second] = await test.outputs<TransferReceived>('transfersReceived')
    expect({ ...second, sourceOffset: 0 }).toEqual(first)
    // Counted once: 2000.00, not 4000.00 (a double count would make 1900.00 out fall under half).
    playAndWithdraw(test, [10_00])
    await test.driver.run()
    expect((await decisionOf(test, 'w-b'))?.executions).toMatchObject([{ status: 'HIT', detail: expect.stringContaining('(0 deposited, 200000 received from other players;') }])
  })

  it('everything produced at once: the receiver\'s partition runs ahead, its withdrawal is decided without the transfer, which counts from the next outflow on', async () => {
    const test = await pipeline()
    sendTransfer(test)
    playAndWithdraw(test, [10_00])
    test.send('withdrawals', withdrawal({ playerId: RECEIVER, withdrawalId: 'w-b2', eventTimeMs: 3 * HOUR_MS, amountMinor: 100_00 }))
    await test.driver.run()
    // w-b was taken in the receiver's first turn, before the sender's task had re-keyed tr-1.
    expect((await decisionOf(test, 'w-b'))?.executions).toEqual([])
    expect((await decisionOf(test, 'w-b2'))?.executions).toEqual([])
    // Both withdrawals were in that first turn; a later one sees the (late) transfer.
    test.send('withdrawals', withdrawal({ playerId: RECEIVER, withdrawalId: 'w-b3', eventTimeMs: 4 * HOUR_MS, amountMinor: 100_00 }))
    await test.driver.run()
    expect((await decisionOf(test, 'w-b3'))?.executions).toMatchObject([{ status: 'HIT', detail: expect.stringContaining('200000 received from other players') }])
  })
})
