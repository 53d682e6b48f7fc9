/**
 * bonus_max_bet: bets paid from bonus funds with a stake above the bonus terms' maximum bet,
 * while a deposit bonus is active (catalog 8, bonus abuse): high-variance staking to convert a
 * bonus into withdrawable cash before the wagering requirement is met.
 *
 * On a bet (counted once, on the step `countBetsOn`) with `bonusFunds` and `stakeMinor >
 * maxBetMinor` during an active bonus (see bonus-tracking.ts) it raises an alert: value the
 * stake, threshold `maxBetMinor`. On a withdrawal request it reports the breaches recorded
 * under the bonuses still active at the request: a hit when there are more than
 * `maxBreachesAtWithdrawal`, since the terms usually let the operator void the winnings.
 *
 * Worked example (maxBetMinor 5_00, maxBreachesAtWithdrawal 0): deposit with a bonus at 00:00;
 * bonus-funds bets of 5_00 (no alert: at the limit), 5_01 at 00:10 (alert, value 501,
 * threshold 500), a cash bet of 50_00 (not bonus funds, no alert); a withdrawal at 01:00 -> hit,
 * value 1 breach, threshold 0.
 *
 * Out of order: an over-limit bonus-funds bet seen before its bonus's deposit event (within
 * grace) is kept, and the deposit event, when it arrives, raises the alert for it. A late bet
 * (beyond grace) is flagged `late` and recorded as a breach for later withdrawals but raises no
 * alert of its own; a withdrawal is always evaluated.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { BET_STEP_PARAM, addGrant, countsBet, forfeits, grantOf, isActiveAt, pruneGrants, type BetStep, type BonusGrant } from './bonus-tracking.js'
import { isLate, keepFrom } from './windows.js'

export interface BonusMaxBetParams {
  /** Largest stake allowed from bonus funds, in minor units; a stake above it is a breach. */
  readonly maxBetMinor: number
  readonly countBetsOn: BetStep
  /** How long a bonus stays active after its deposit. */
  readonly bonusValidityMs: number
  /** A withdrawal is a hit when more breaches than this were recorded under its active bonuses. */
  readonly maxBreachesAtWithdrawal: number
  readonly graceMs: number
  /** Upper bound on the bonuses and on the breaches kept in state (the newest are kept). */
  readonly maxTrackedBonuses: number
  readonly maxTrackedBreaches: number
}

interface OverLimitBet {
  readonly eventId: string
  readonly eventTimeMs: number
  readonly stakeMinor: number
}

interface Breach extends OverLimitBet {
  /** The deposit whose bonus was active. */
  readonly depositId: string
}

export interface BonusMaxBetState {
  readonly bonuses: readonly BonusGrant[]
  readonly breaches: readonly Breach[]
  /** Over-limit bonus-funds bets within grace that matched no known bonus yet. */
  readonly unmatched: readonly OverLimitBet[]
}

const MAX_UNMATCHED = 100

/** True when one of the bonuses came with this deposit (a scan: there are at most maxTrackedBonuses). */
function hasDeposit(bonuses: readonly BonusGrant[], depositId: string): boolean {
  for (const bonus of bonuses) if (bonus.depositId === depositId) return true
  return false
}

/** The breaches under the bonuses still kept: the same list when all are (most steps). */
function liveBreaches(breaches: readonly Breach[], bonuses: readonly BonusGrant[]): readonly Breach[] {
  let live = true
  for (const breach of breaches) {
    if (!hasDeposit(bonuses, breach.depositId)) {
      live = false
      break
    }
  }
  return live ? breaches : breaches.filter((breach) => hasDeposit(bonuses, breach.depositId))
}

const capLatest = <T>(items: readonly T[], maxCount: number): T[] => (items.length > maxCount ? items.slice(items.length - maxCount) : [...items])

/** The bonus a bet at `timeMs` falls under: the latest granted one that is active then. */
function activeBonusAt(bonuses: readonly BonusGrant[], timeMs: number, bonusValidityMs: number): BonusGrant | undefined {
  for (let index = bonuses.length - 1; index >= 0; index -= 1) {
    const bonus = bonuses[index] as BonusGrant
    if (isActiveAt(bonus, timeMs, bonusValidityMs)) return bonus
  }
  return undefined
}

export const bonusMaxBet = defineDetector({
  id: 'bonus_max_bet',
  version: 1,
  description: 'bonus-funds bets above the maximum bet while a deposit bonus is active, and withdrawals after such breaches',
  accepts: ['deposit', 'bet', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['maxBetMinor', 'countBetsOn', 'bonusValidityMs', 'maxBreachesAtWithdrawal', 'graceMs'],
    properties: {
      maxBetMinor: { type: 'integer', minimum: 0 },
      countBetsOn: BET_STEP_PARAM,
      bonusValidityMs: { type: 'integer', minimum: 1, maximum: 365 * DAY_MS },
      maxBreachesAtWithdrawal: { type: 'integer', minimum: 0 },
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedBonuses: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
      maxTrackedBreaches: { type: 'integer', minimum: 1, maximum: 1000, default: 100 },
    },
  },
  init: (): BonusMaxBetState => ({ bonuses: [], breaches: [], unmatched: [] }),
  step(state: BonusMaxBetState, event, params: BonusMaxBetParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    const bonuses = pruneGrants(state.bonuses, context.streamTimeMs, params.bonusValidityMs, params.graceMs)
    // This runs on every bet: no set and no copies (the bonuses are scanned, at most
    // maxTrackedBonuses), and the same state back when nothing expired.
    const breaches = liveBreaches(state.breaches, bonuses)
    const unmatched = keepFrom(state.unmatched, context.streamTimeMs - params.graceMs)
    const kept = bonuses === state.bonuses && breaches === state.breaches && unmatched === state.unmatched ? state : { bonuses, breaches, unmatched }

    if (event.kind === 'deposit') {
      const grant = grantOf(event)
      if (grant === null) {
        if (!forfeits(event) || !hasDeposit(bonuses, event.depositId)) return { state: kept, observation: null, late }
        // The deposit behind the bonus failed or went back: its breaches no longer matter.
        const next = { bonuses: bonuses.filter((bonus) => bonus.depositId !== event.depositId), breaches: breaches.filter((breach) => breach.depositId !== event.depositId), unmatched }
        return { state: next, observation: null, late }
      }
      if (hasDeposit(bonuses, grant.depositId)) return { state: kept, observation: null, late }
      const nextBonuses = addGrant(bonuses, grant, params.maxTrackedBonuses)
      // Over-limit bets seen before this deposit event that fall under its bonus.
      const covered = unmatched.filter((bet) => isActiveAt(grant, bet.eventTimeMs, params.bonusValidityMs))
      const newBreaches = covered.map((bet) => ({ ...bet, depositId: grant.depositId }))
      const next = {
        bonuses: nextBonuses,
        breaches: capLatest([...breaches, ...newBreaches].sort((left, right) => left.eventTimeMs - right.eventTimeMs), params.maxTrackedBreaches),
        unmatched: unmatched.filter((bet) => !covered.includes(bet)),
      }
      if (covered.length === 0 || late) return { state: next, observation: null, late }
      const largest = Math.max(...covered.map((bet) => bet.stakeMinor))
      const observation: Observation = {
        hit: true, value: largest, threshold: params.maxBetMinor,
        detail: `${covered.length} bonus-funds bet(s) above the maximum bet of ${params.maxBetMinor} minor units, largest ${largest}, placed before the bonus's deposit event arrived`,
        evidenceEventIds: [...covered.map((bet) => bet.eventId), event.eventId],
        windowStartMs: grant.grantedAtMs, windowEndMs: grant.grantedAtMs + params.bonusValidityMs,
      }
      return { state: next, observation, late }
    }

    if (event.kind === 'bet') {
      if (!event.bonusFunds || !countsBet(event, params.countBetsOn) || event.stakeMinor <= params.maxBetMinor) return { state: kept, observation: null, late }
      if (breaches.some((breach) => breach.eventId === event.eventId) || unmatched.some((bet) => bet.eventId === event.eventId)) return { state: kept, observation: null, late }
      const overLimit: OverLimitBet = { eventId: event.eventId, eventTimeMs: event.eventTimeMs, stakeMinor: event.stakeMinor }
      const bonus = activeBonusAt(bonuses, event.eventTimeMs, params.bonusValidityMs)
      if (bonus === undefined) {
        const next = { bonuses, breaches, unmatched: late ? unmatched : capLatest([...unmatched, overLimit], MAX_UNMATCHED) }
        return { state: next, observation: null, late }
      }
      const next = {
        bonuses,
        breaches: capLatest([...breaches, { ...overLimit, depositId: bonus.depositId }].sort((left, right) => left.eventTimeMs - right.eventTimeMs), params.maxTrackedBreaches),
        unmatched,
      }
      if (late) return { state: next, observation: null, late }
      const observation: Observation = {
        hit: true, value: event.stakeMinor, threshold: params.maxBetMinor,
        detail: `bonus-funds bet of ${event.stakeMinor} minor units above the maximum bet of ${params.maxBetMinor} (bonus from deposit ${bonus.depositId})`,
        evidenceEventIds: [bonus.eventId, event.eventId],
        windowStartMs: bonus.grantedAtMs, windowEndMs: bonus.grantedAtMs + params.bonusValidityMs,
      }
      return { state: next, observation, late }
    }

    if (event.type !== 'REQUESTED') return { state: kept, observation: null, late }
    const active = bonuses.filter((bonus) => isActiveAt(bonus, event.eventTimeMs, params.bonusValidityMs))
    const activeDeposits = new Set(active.map((bonus) => bonus.depositId))
    const counted = breaches.filter((breach) => activeDeposits.has(breach.depositId) && breach.eventTimeMs <= event.eventTimeMs)
    const observation: Observation = {
      hit: counted.length > params.maxBreachesAtWithdrawal,
      value: counted.length,
      threshold: params.maxBreachesAtWithdrawal,
      detail: active.length === 0
        ? 'no active bonus'
        : `${counted.length} bonus-funds bet(s) above the maximum bet of ${params.maxBetMinor} minor units under the active bonus, limit ${params.maxBreachesAtWithdrawal}`,
      evidenceEventIds: [...counted.map((breach) => breach.eventId), event.eventId],
      windowStartMs: active[0]?.grantedAtMs ?? null,
      windowEndMs: event.eventTimeMs,
    }
    return { state: kept, observation, late }
  },
})
