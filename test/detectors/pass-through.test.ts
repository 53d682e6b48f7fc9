import { describe, expect, it } from 'vitest'
import { bet as wireBet, deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { passThrough } from '../../detectors/pass-through.js'
import { testPipeline } from '../support/pipeline.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, alertsOf, at, bet, deposit, lastObservation, paramsFor, runScenario, shippedRuleSetWith, transfer, transferReceived, withdrawal } from './scenario.js'

const SHIPPED_MT = paramsFor('pass_through', 'MT', 'VERIFIED')
/** The shipped MT rule with transfers received counted (the shipped rule set leaves them out, docs/detectors.md). */
const MT = { ...SHIPPED_MT, inflowTransferKinds: ['P2P', 'TIP', 'CHIP_TRANSFER'] }

/** Settled bets of these stakes, one a minute from `startMs`. */
const settled = (startMs: number, stakes: readonly number[]) => stakes.map((stakeMinor, index) => at(startMs + index * MINUTE_MS, bet(stakeMinor, { betId: `b${startMs}-${index}` })))

describe('pass_through: wagering relative to deposits', () => {
  it('ships MT: EUR 1,000 in 48 h, wagering below a quarter, half of it out', () => {
    // transfers received are off in the shipped rule set: a failover could decide a receiver twice, differently
    expect(SHIPPED_MT).toMatchObject({ minDepositMinor: 1_000_00, maxWageringRatio: 0.25, minOutflowRatio: 0.5, windowMs: 2 * DAY_MS, graceMs: 5 * MINUTE_MS, currency: 'EUR', wageringBucketMs: 15 * MINUTE_MS, inflowTransferKinds: [] })
  })

  it.each([
    { wagered: 490_00, value: 0.245, hit: true },
    { wagered: 500_00, value: 0.25, hit: false },
    { wagered: 510_00, value: 0.255, hit: false },
  ])('deposit 2000.00, wagered $wagered, withdraw 1900.00 -> ratio $value, hit $hit', ({ wagered, value, hit }) => {
    const steps = runScenario(passThrough, MT, [
      at(0, deposit(2_000_00, { depositId: 'd1' })),
      ...settled(HOUR_MS, [wagered - 10_00, 10_00]),
      at(2 * HOUR_MS, withdrawal(1_900_00, { withdrawalId: 'w1' })),
    ])
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    expect(lastObservation(steps)).toMatchObject({
      hit, value, threshold: 0.25, evidenceEventIds: ['ev:d1', 'ev:w1'], windowStartMs: 2 * HOUR_MS - 2 * DAY_MS, windowEndMs: 2 * HOUR_MS,
      detail: `wagered ${wagered} of 200000 EUR minor units that came in within 48 h (200000 deposited, 0 received from other players; ratio ${value.toFixed(4)}, hit below 0.25); 190000 out since the first inflow (hit from 0.5 of inflows)`,
    })
  })

  it.each([
    { deposited: 999_99, hit: false },
    { deposited: 1_000_00, hit: true },
    { deposited: 1_000_01, hit: true },
  ])('deposits of $deposited against the EUR 1,000 minimum -> hit $hit', ({ deposited, hit }) => {
    const observation = lastObservation(runScenario(passThrough, MT, [at(0, deposit(deposited)), at(HOUR_MS, withdrawal(deposited))]))
    expect(observation?.hit).toBe(hit)
    if (!hit) expect(observation?.detail).toBe('99999 EUR minor units came in within 48 h (99999 deposited, 0 received from other players), under the 100000 minimum for pass-through')
  })

  it.each([
    { out: 999_99, hit: false },
    { out: 1_000_00, hit: true },
  ])('deposit 2000.00, no play, withdraw $out -> hit $hit (at least half must go out)', ({ out, hit }) => {
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00)), at(HOUR_MS, withdrawal(out))]))?.hit).toBe(hit)
  })

  it('sums split deposits and split withdrawals', () => {
    const steps = runScenario(passThrough, MT, [
      ...[0, 1, 2, 3].map((index) => at(index * 10 * MINUTE_MS, deposit(300_00, { depositId: `d${index}` }))),
      at(HOUR_MS, withdrawal(400_00, { withdrawalId: 'w1' })),
      at(2 * HOUR_MS, withdrawal(400_00, { withdrawalId: 'w2' })),
    ])
    expect(steps[4]?.observation).toMatchObject({ hit: false, value: 0 })
    expect(steps[5]?.observation).toMatchObject({ hit: true, value: 0, evidenceEventIds: ['ev:d0', 'ev:d1', 'ev:d2', 'ev:d3', 'ev:w1', 'ev:w2'] })
  })

  it('counts settled bets since the first deposit only; placed bets are not counted twice', () => {
    const withPlay = (events: ReturnType<typeof at>[]) => lastObservation(runScenario(passThrough, MT, [...events, at(HOUR_MS, deposit(2_000_00, { depositId: 'd' })), at(3 * HOUR_MS, withdrawal(1_500_00))]))
    // play the day before the deposit does not make it "played"
    expect(withPlay(settled(-DAY_MS, [1_000_00]))).toMatchObject({ hit: true, value: 0 })
    // a bet placed then settled counts once
    const placedThenSettled = [at(2 * HOUR_MS, bet(600_00, { betId: 'x', type: 'PLACED' })), at(2 * HOUR_MS + MINUTE_MS, bet(600_00, { betId: 'x', type: 'SETTLED', eventId: 'x-settled' }))]
    expect(lastObservation(runScenario(passThrough, MT, [at(HOUR_MS, deposit(2_000_00)), ...placedThenSettled, at(3 * HOUR_MS, withdrawal(1_500_00))]))).toMatchObject({ hit: false, value: 0.3 })
  })

  it('the window is (t - 48 h, t]: a deposit exactly 48 h old is out of it', () => {
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00)), at(2 * DAY_MS - 1, withdrawal(2_000_00))]))?.hit).toBe(true)
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00)), at(2 * DAY_MS, withdrawal(2_000_00))]))).toBeNull()
  })

  it('gives no observation without a deposit in the window, and ignores other currencies and cancellations', () => {
    expect(lastObservation(runScenario(passThrough, MT, [at(HOUR_MS, withdrawal(2_000_00))]))).toBeNull()
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00, { currency: 'GBP' })), at(HOUR_MS, withdrawal(2_000_00, { currency: 'GBP' }))]))).toBeNull()
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00)), at(HOUR_MS, withdrawal(2_000_00, { type: 'CANCELLED' }))]))).toBeNull()
    expect(lastObservation(runScenario(passThrough, MT, [at(0, deposit(2_000_00, { status: 'FAILED' })), at(HOUR_MS, withdrawal(2_000_00))]))).toBeNull()
  })
})

describe('pass_through: transfers sent', () => {
  it('a transfer sent soon after the deposit raises an alert; transfers count towards the outflow', () => {
    const steps = runScenario(passThrough, MT, [at(0, deposit(2_000_00, { depositId: 'd' })), at(HOUR_MS, transfer(600_00, { transferId: 't1' })), at(2 * HOUR_MS, transfer(500_00, { transferId: 't2', kind: 'TIP' }))])
    expect(steps[1]?.observation).toBeNull() // 600 out of 2000: under half
    expect(steps[2]?.observation).toMatchObject({ hit: true, value: 0, evidenceEventIds: ['ev:d', 'ev:t1', 'ev:t2'] })
    const then = runScenario(passThrough, MT, [at(0, deposit(2_000_00, { depositId: 'd' })), at(HOUR_MS, transfer(600_00, { transferId: 't1' })), at(2 * HOUR_MS, withdrawal(400_00, { withdrawalId: 'w' }))])
    expect(lastObservation(then)).toMatchObject({ hit: true, evidenceEventIds: ['ev:d', 'ev:t1', 'ev:w'] })
  })

  it('transfer kinds not listed do not count', () => {
    const params = { ...MT, outflowTransferKinds: ['P2P'] }
    const steps = runScenario(passThrough, params, [at(0, deposit(2_000_00)), at(HOUR_MS, transfer(1_500_00, { kind: 'CHIP_TRANSFER' })), at(2 * HOUR_MS, withdrawal(100_00))])
    expect(steps[1]?.observation).toBeNull()
    expect(lastObservation(steps)).toMatchObject({ hit: false })
  })
})

describe('pass_through: transfers received (issue 3)', () => {
  it.each([
    { wagered: 490_00, value: 0.245, hit: true },
    { wagered: 500_00, value: 0.25, hit: false },
    { wagered: 510_00, value: 0.255, hit: false },
  ])('received 2000.00 P2P, wagered $wagered, withdraw 1900.00 -> ratio $value, hit $hit', ({ wagered, value, hit }) => {
    const steps = runScenario(passThrough, MT, [
      at(0, transferReceived(2_000_00, { transferId: 'tr-7', eventId: 'ev-7' })),
      ...settled(HOUR_MS, [wagered - 10_00, 10_00]),
      at(2 * HOUR_MS, withdrawal(1_900_00, { withdrawalId: 'w1' })),
    ])
    expect(steps.slice(0, -1).every((step) => step.observation === null)).toBe(true)
    expect(lastObservation(steps)).toMatchObject({
      hit, value, threshold: 0.25, evidenceEventIds: ['ev-7', 'ev:w1'],
      detail: `wagered ${wagered} of 200000 EUR minor units that came in within 48 h (0 deposited, 200000 received from other players; ratio ${value.toFixed(4)}, hit below 0.25); 190000 out since the first inflow (hit from 0.5 of inflows)`,
    })
  })

  it.each([
    { received: 999_99, hit: false },
    { received: 1_000_00, hit: true },
    { received: 1_000_01, hit: true },
  ])('received $received against the EUR 1,000 minimum -> hit $hit', ({ received, hit }) => {
    expect(lastObservation(runScenario(passThrough, MT, [at(0, transferReceived(received)), at(HOUR_MS, withdrawal(received))]))?.hit).toBe(hit)
  })

  it('adds deposits and transfers received: 600.00 + 500.00 reaches the minimum neither reaches alone', () => {
    const steps = runScenario(passThrough, MT, [
      at(0, deposit(600_00, { depositId: 'd1' })),
      at(10 * MINUTE_MS, transferReceived(500_00, { transferId: 'tr-1', eventId: 'ev-tr-1', transferKind: 'TIP' })),
      at(HOUR_MS, withdrawal(1_000_00, { withdrawalId: 'w1' })),
    ])
    expect(lastObservation(steps)).toMatchObject({ hit: true, value: 0, evidenceEventIds: ['ev:d1', 'ev-tr-1', 'ev:w1'] })
    expect(lastObservation(steps)?.detail).toContain('(60000 deposited, 50000 received from other players;')
  })

  it('counts a redelivered transfer once (same transferId)', () => {
    const copy = transferReceived(600_00, { transferId: 'tr-dup', eventId: 'ev-dup' })
    const steps = runScenario(passThrough, MT, [at(0, copy), at(MINUTE_MS, copy), at(2 * MINUTE_MS, copy), at(HOUR_MS, withdrawal(600_00, { withdrawalId: 'w1' }))])
    // 600.00 once is under the 1000.00 minimum; counted three times it would hit
    expect(lastObservation(steps)).toMatchObject({ hit: false, evidenceEventIds: ['ev-dup', 'ev:w1'] })
    expect((steps[2]?.state as { inflows: unknown[] }).inflows).toHaveLength(1)
    expect(steps.map((step) => step.late)).toEqual([false, false, false, false])
  })

  it('ignores kinds not in inflowTransferKinds (OTHER by default; CHIP_TRANSFER when the rule leaves it out)', () => {
    const events = (transferKind: 'OTHER' | 'CHIP_TRANSFER') => [at(0, transferReceived(2_000_00, { transferKind })), at(HOUR_MS, withdrawal(1_900_00))]
    expect(lastObservation(runScenario(passThrough, MT, events('OTHER')))).toBeNull()
    expect(lastObservation(runScenario(passThrough, MT, events('CHIP_TRANSFER')))?.hit).toBe(true)
    expect(lastObservation(runScenario(passThrough, { ...MT, inflowTransferKinds: ['P2P'] }, events('CHIP_TRANSFER')))).toBeNull()
  })

  it('late beyond grace: stored and flagged, missing from the withdrawal decided before it, counted for the next outflow', () => {
    const steps = runScenario(passThrough, MT, [
      at(HOUR_MS, bet(1_00, { betId: 'now' })),
      at(HOUR_MS + MINUTE_MS, withdrawal(1_000_00, { withdrawalId: 'w1' })),
      // sent at 00:54:59.999, arrives after stream time passed 01:01: beyond the 5 min grace
      at(HOUR_MS - 5 * MINUTE_MS - 1, transferReceived(2_000_00, { transferId: 'tr-late', eventId: 'ev-late' })),
      at(HOUR_MS + 2 * MINUTE_MS, withdrawal(1_000_00, { withdrawalId: 'w2' })),
    ])
    expect(steps[1]?.observation).toBeNull()
    expect(steps[2]).toMatchObject({ late: true, observation: null })
    expect(steps[3]?.observation).toMatchObject({ hit: true, evidenceEventIds: ['ev-late', 'ev:w1', 'ev:w2'] })
    const inGrace = runScenario(passThrough, MT, [at(HOUR_MS, bet(1_00, { betId: 'now' })), at(HOUR_MS - 5 * MINUTE_MS, transferReceived(2_000_00))])
    expect(inGrace[1]?.late).toBe(false)
  })

  it('ignores money received in another currency', () => {
    expect(lastObservation(runScenario(passThrough, MT, [at(0, transferReceived(2_000_00, { currency: 'GBP' })), at(HOUR_MS, withdrawal(1_900_00))]))).toBeNull()
  })
})

describe('pass_through: event time', () => {
  it('an out-of-order bet within grace counts for the next evaluation', () => {
    const steps = runScenario(passThrough, MT, [
      at(0, deposit(2_000_00)),
      at(10 * MINUTE_MS, withdrawal(1_000_00, { withdrawalId: 'w1' })),
      at(6 * MINUTE_MS, bet(600_00, { betId: 'slow' })),
      at(11 * MINUTE_MS, withdrawal(100_00, { withdrawalId: 'w2' })),
    ])
    expect(steps.map((step) => step.late)).toEqual([false, false, false, false])
    expect(steps[1]?.observation).toMatchObject({ hit: true, value: 0 })
    expect(steps[3]?.observation).toMatchObject({ hit: false, value: 0.3 })
  })

  it('late beyond grace: a late transfer raises no alert, a late withdrawal is still evaluated', () => {
    const base = [at(0, deposit(2_000_00)), at(HOUR_MS, bet(1_00, { betId: 'now' }))]
    const lateTransfer = runScenario(passThrough, MT, [...base, at(HOUR_MS - 5 * MINUTE_MS - 1, transfer(1_900_00))])
    expect(lastObservation(lateTransfer)).toBeNull()
    expect(lateTransfer[2]?.late).toBe(true)
    const lateWithdrawal = runScenario(passThrough, MT, [...base, at(HOUR_MS - 5 * MINUTE_MS - 1, withdrawal(1_900_00))])
    expect(lateWithdrawal[2]).toMatchObject({ late: true, observation: { hit: true } })
    const inGrace = runScenario(passThrough, MT, [...base, at(HOUR_MS - 5 * MINUTE_MS, transfer(1_900_00))])
    expect(inGrace[2]).toMatchObject({ late: false, observation: { hit: true } })
  })

  it('keeps bets as one bucket per 15 minutes and prunes everything past window plus grace', () => {
    const steps = runScenario(passThrough, MT, [at(0, deposit(2_000_00)), ...settled(MINUTE_MS, Array(10).fill(10_00))])
    expect((steps[steps.length - 1]?.state as { wagering: unknown[] }).wagering).toEqual([{ eventTimeMs: 0, stakeMinor: 100_00 }])
    const later = runScenario(passThrough, MT, [at(0, deposit(2_000_00)), ...settled(MINUTE_MS, [10_00]), at(3 * DAY_MS, withdrawal(100_00))])
    expect(later[later.length - 1]?.state).toEqual({ inflows: [], outflows: [{ eventId: `ev:wd:p1:${3 * DAY_MS}`, eventTimeMs: 3 * DAY_MS, amountMinor: 100_00 }], wagering: [] })
  })
})

describe('pass_through: overrides', () => {
  it('NEW players from EUR 500, VIP from EUR 10,000', () => {
    const events = [at(0, deposit(600_00)), at(HOUR_MS, withdrawal(600_00))]
    expect(lastObservation(runScenario(passThrough, paramsFor('pass_through', 'MT', 'NEW'), events))?.hit).toBe(true)
    expect(lastObservation(runScenario(passThrough, MT, events))?.hit).toBe(false)
    const big = [at(0, deposit(5_000_00)), at(HOUR_MS, withdrawal(5_000_00))]
    expect(lastObservation(runScenario(passThrough, MT, big))?.hit).toBe(true)
    expect(lastObservation(runScenario(passThrough, paramsFor('pass_through', 'MT', 'VIP'), big))?.hit).toBe(false)
  })

  it('UK counts sterling', () => {
    const sterling = [at(0, deposit(2_000_00, { currency: 'GBP' })), at(HOUR_MS, withdrawal(2_000_00, { currency: 'GBP' }))]
    expect(lastObservation(runScenario(passThrough, paramsFor('pass_through', 'UK', 'VERIFIED'), sterling))?.hit).toBe(true)
    expect(lastObservation(runScenario(passThrough, MT, sterling))).toBeNull()
  })
})

describe('pass_through end to end', () => {
  it('deposit, a few spins, withdrawal: the withdrawal goes to review with the ratio', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['pass_through']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', tier: 'VERIFIED' }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: HOUR_MS, amountMinor: 3_000_00 }))
    for (let spin = 0; spin < 3; spin += 1) pipeline.send('bets', wireBet({ playerId: 'p1', betId: `b${spin}`, eventTimeMs: HOUR_MS + (spin + 1) * MINUTE_MS, stakeMinor: 10_00 }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: 2 * HOUR_MS, amountMinor: 2_900_00 }))
    await pipeline.driver.run()
    const [decision] = await pipeline.decisions()
    expect(decision).toMatchObject({ withdrawalId: 'w1', outcome: 'REVIEW' })
    expect(decision?.executions).toEqual([{ detectorId: 'pass_through', detectorVersion: 2, status: 'HIT', value: 0.01, threshold: 0.25, detail: 'wagered 3000 of 300000 EUR minor units that came in within 48 h (300000 deposited, 0 received from other players; ratio 0.0100, hit below 0.25); 290000 out since the first inflow (hit from 0.5 of inflows)' }])
    expect((await alertsOf(pipeline)).map((alert) => [alert.detectorId, alert.severity, alert.evidenceEventIds])).toEqual([['pass_through', 'HIGH', ['ev:d1', 'ev:w1']]])
  })
})
