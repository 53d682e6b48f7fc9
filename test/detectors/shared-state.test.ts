/**
 * Detectors hand back lists they did not change (a step copies only what it changes, issue 3's
 * throughput work), so a detector must never write into the state it was given: the partition
 * task keeps that state for a checkpoint and for a batch that fails before its outputs are acked.
 * Every registered detector steps a busy, partly out-of-order player here with its input state
 * deep-frozen (a write throws in strict mode), and decides the same whether or not each state is
 * round-tripped through JSON between steps, as a restart from a checkpoint would.
 */
import { describe, expect, it } from 'vitest'
import { DETECTORS, DetectorRegistry } from '../../detectors/index.js'
import { RuleSet } from '../../detectors/rule-set.js'
import { EventProcessor, newPlayerState, type PlayerState } from '../../pipelines/processor.js'
import type { InputEvent } from '../../schemas/domain.js'
import { HOUR_MS, MINUTE_MS, at, bet, deposit, login, paramsFor, playerChange, profile, shippedRuleSetWith, transfer, withdrawal } from './scenario.js'

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value)
    for (const entry of Object.values(value)) deepFreeze(entry)
  }
  return value
}

/** Two days of a player depositing, betting (day and night), logging in from several networks and withdrawing, with redeliveries and out-of-order events. */
function busyPlayer(): InputEvent[] {
  const events: InputEvent[] = [at(0, playerChange({ type: 'SELF_EXCLUSION_CHANGED', selfExcludedUntilMs: 2 * HOUR_MS }))]
  for (let round = 0; round < 40; round += 1) {
    const startMs = round * 70 * MINUTE_MS
    events.push(at(startMs, login({ ip: `198.51.${round % 6}.7`, asn: 64_500 + (round % 5), deviceFingerprint: `fp-${round % 7}`, ipCountry: round % 9 === 0 ? 'AU' : 'MT', isVpn: round % 11 === 0 })))
    events.push(at(startMs + MINUTE_MS, deposit(1_000_00 + round * 10_00, { depositId: `d${round}`, method: round % 8 === 0 ? 'CRYPTO' : 'CARD', bonusAmountMinor: round % 5 === 0 ? 50_00 : null, wageringRequirementMultiplier: round % 5 === 0 ? 10 : null })))
    for (let spin = 0; spin < 4; spin += 1) events.push(at(startMs + (2 + spin) * MINUTE_MS, bet(10_00 * (spin + 1), { betId: `b${round}-${spin}`, winMinor: spin === 3 ? 50_00 : 0, bonusFunds: spin === 0 })))
    if (round % 3 === 0) events.push(at(startMs + 10 * MINUTE_MS, withdrawal(900_00 + round * 100_00, { withdrawalId: `w${round}`, method: round % 6 === 0 ? 'EWALLET' : 'CARD' })))
    if (round % 4 === 0) events.push(at(startMs + 11 * MINUTE_MS, transfer(200_00, { transferId: `t${round}` })))
    // Out of order within grace, a redelivery, and a status change of an earlier deposit.
    if (round % 7 === 3) events.push(at(startMs - 2 * MINUTE_MS, bet(5_00, { betId: `late-${round}` })))
    if (round % 10 === 5) events.push(events[events.length - 2] as InputEvent)
    if (round % 13 === 6) events.push(at(startMs + 12 * MINUTE_MS, deposit(1_000_00, { depositId: `d${round - 1}`, status: 'CHARGEBACK' })))
  }
  return events
}

describe('detectors never write into the state they are given', () => {
  it.each(DETECTORS.map((detector) => [detector.id, detector] as const))('%s', (_id, detector) => {
    const params = paramsFor(detector.id, 'MT', 'VERIFIED')
    const context = { profile: profile({ firstName: 'Ann', lastName: 'Lee' }), screen: null }
    let kept: unknown = detector.init()
    let restored: unknown = detector.init()
    let streamTimeMs = Number.NEGATIVE_INFINITY
    for (const event of busyPlayer()) {
      streamTimeMs = Math.max(streamTimeMs, event.eventTimeMs)
      if (!(detector.accepts as readonly string[]).includes(event.kind)) continue
      const before = JSON.stringify(kept)
      const direct = detector.step(deepFreeze(kept), event as never, params, { ...context, streamTimeMs })
      const afterRestart = detector.step(restored, event as never, params, { ...context, streamTimeMs })
      expect(JSON.stringify(kept)).toBe(before)
      expect([afterRestart.observation, afterRestart.late === true]).toEqual([direct.observation, direct.late === true])
      kept = direct.state
      restored = JSON.parse(JSON.stringify(afterRestart.state)) as unknown
    }
  })
})

describe('the processor keeps what a step did not change', () => {
  // A detector hands back the state it was given when the event changed nothing; the processor
  // then keeps that detector's stored entry, and copies the record only when something changed.
  const registry = new DetectorRegistry()
  const ruleSet = RuleSet.parse(shippedRuleSetWith(DETECTORS.map((detector) => detector.id)), registry)
  const processor = new EventProcessor(registry)
  const source = { topic: 'test', partition: 0, offset: 0 }

  it('an unchanged entry is the same object; a record handed back is never one it was not given as owned', () => {
    let player: PlayerState = newPlayerState()
    let streamTimeMs = Number.NEGATIVE_INFINITY
    let keptWhenStepped = 0
    for (const event of busyPlayer().slice(0, 40)) {
      streamTimeMs = Math.max(streamTimeMs, event.eventTimeMs)
      const given = deepFreeze(player)
      const result = processor.process(event, given, ruleSet, source, streamTimeMs, false)
      if (result.duplicate) continue
      expect(result.player.detectors).not.toBe(given.detectors)
      for (const [detectorId, entry] of Object.entries(given.detectors)) {
        const next = result.player.detectors[detectorId]
        // Not stepped, or stepped without a change: the very entry it had (no new wrapper).
        if (next?.state === entry.state) {
          expect(next).toBe(entry)
          if (registry.get(detectorId)?.accepts.includes(event.kind as never) === true) keptWhenStepped += 1
        }
      }
      player = result.player
    }
    expect(keptWhenStepped).toBeGreaterThan(0)
    // The same player stepped as owned (in place) from a copy gives the same states.
    const settled = at(40 * 70 * MINUTE_MS, bet(10_00, { betId: 'after' }))
    const frozen = deepFreeze(player)
    const owned = processor.process(settled, { ...frozen, detectors: { ...frozen.detectors } }, ruleSet, source, settled.eventTimeMs, true)
    const copied = processor.process(settled, frozen, ruleSet, source, settled.eventTimeMs, false)
    expect(JSON.stringify(owned.player)).toBe(JSON.stringify(copied.player))
    expect(owned.outputs).toEqual(copied.outputs)
  })
})
