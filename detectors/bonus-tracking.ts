/**
 * Deposit bonuses as the bonus-abuse detectors (bonus_wagering_unmet, bonus_max_bet) see them.
 * A bonus is granted with a COMPLETED deposit that carries `bonusAmountMinor > 0` and a
 * `wageringRequirementMultiplier` (casino.deposits.v1); it is active from the deposit's event
 * time for `bonusValidityMs`, and forfeited when a later event of the same deposit says the
 * money did not arrive or went back (FAILED, CANCELLED, CHARGEBACK, REVERSED).
 *
 * Both detectors keep their own copy of the grants (detector states are separate by design),
 * built by these helpers so that "active" means the same thing in both.
 *
 * Example: a COMPLETED deposit at t=0 of 100_00 with bonus 50_00 x 35 ->
 *   grantOf(event) = { depositId, grantedAtMs: 0, bonusAmountMinor: 50_00, multiplier: 35, ... }
 *   isActiveAt(grant, 29 days, 30 days) === true; isActiveAt(grant, 30 days, 30 days) === false
 */
import type { BetEvent, DepositEvent } from '../schemas/domain.js'

export interface BonusGrant {
  readonly depositId: string
  /** The deposit event that granted the bonus (evidence). */
  readonly eventId: string
  readonly grantedAtMs: number
  readonly depositAmountMinor: number
  readonly bonusAmountMinor: number
  readonly multiplier: number
  readonly currency: string
}

/** Which step of a bet counts it (turnover, max-bet checks): the operator's feed decides. */
export const BET_STEPS = ['PLACED', 'SETTLED'] as const
export type BetStep = (typeof BET_STEPS)[number]

/** JSON-schema fragment shared by the bonus detectors' params. */
export const BET_STEP_PARAM = { enum: BET_STEPS } as const

// Statuses after which a granted bonus no longer stands: the deposit behind it failed or went back.
const FORFEITING_STATUSES: ReadonlySet<string> = new Set(['FAILED', 'CANCELLED', 'CHARGEBACK', 'REVERSED'])

/** The bonus a deposit event grants, or null (no bonus, not COMPLETED, or a zero/negative amount). */
export function grantOf(event: DepositEvent): BonusGrant | null {
  if (event.status !== 'COMPLETED') return null
  if (event.bonusAmountMinor === null || event.bonusAmountMinor <= 0 || event.wageringRequirementMultiplier === null) return null
  return {
    depositId: event.depositId,
    eventId: event.eventId,
    grantedAtMs: event.eventTimeMs,
    depositAmountMinor: event.amountMinor,
    bonusAmountMinor: event.bonusAmountMinor,
    multiplier: Math.max(0, event.wageringRequirementMultiplier),
    currency: event.currency,
  }
}

/** True when this deposit event forfeits a bonus granted with the same depositId. */
export function forfeits(event: DepositEvent): boolean {
  return FORFEITING_STATUSES.has(event.status)
}

/** Active at `timeMs`: granted at or before it and not yet expired (validity is [grant, grant + validity)). */
export function isActiveAt(grant: Pick<BonusGrant, 'grantedAtMs'>, timeMs: number, bonusValidityMs: number): boolean {
  return grant.grantedAtMs <= timeMs && timeMs < grant.grantedAtMs + bonusValidityMs
}

/** True when this bet event is the step the rule set counts (one count per bet, not one per event). */
export function countsBet(event: BetEvent, countBetsOn: BetStep): boolean {
  return event.type === countBetsOn
}

/**
 * Adds a grant unless its deposit is already known (a repeated COMPLETED event), keeping at
 * most `maxCount`, the most recently granted.
 */
export function addGrant<T extends { readonly depositId: string; readonly grantedAtMs: number }>(grants: readonly T[], grant: T, maxCount: number): T[] {
  if (grants.some((other) => other.depositId === grant.depositId)) return [...grants]
  const next = [...grants, grant].sort((left, right) => left.grantedAtMs - right.grantedAtMs)
  return next.length > maxCount ? next.slice(next.length - maxCount) : next
}

/** Drops grants no event within grace can find active any more. */
export function pruneGrants<T extends { readonly grantedAtMs: number }>(grants: readonly T[], streamTimeMs: number, bonusValidityMs: number, graceMs: number): readonly T[] {
  // The same list when none expired (most bets): this runs on every bet, so a loop, no closure.
  let expired = false
  for (const grant of grants) {
    if (grant.grantedAtMs + bonusValidityMs <= streamTimeMs - graceMs) {
      expired = true
      break
    }
  }
  if (!expired) return grants
  return grants.filter((grant) => grant.grantedAtMs + bonusValidityMs > streamTimeMs - graceMs)
}
