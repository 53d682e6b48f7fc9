/**
 * bonus_wagering_unmet: a withdrawal requested while an active deposit bonus still has its
 * wagering requirement unmet (catalog 8, bonus abuse): the player takes the money out before
 * turning the bonus over as its terms require, the classic "deposit, grab the bonus, cash out".
 *
 * The requirement is `bonus x multiplier` (or `(deposit + bonus) x multiplier` with
 * `requirementBase: "deposit_plus_bonus"`, as some operators' terms say). Turnover is the stake
 * of each bet counted once (on the step `countBetsOn`), weighted by the game family's
 * contribution in percent (slots usually 100, live tables 10, poker 0), from the bonus's grant
 * until it expires (`bonusValidityMs`). Bets placed before the grant do not count.
 *
 * Worked example (bonus 50_00 x 35 -> requirement 1_750_00, slots 100 %, live tables 10 %):
 * deposit with bonus at 00:00; slot bets of 1_000_00 and live-table bets of 5_000_00 (counting
 * 500_00) -> turnover 1_500_00; a withdrawal at 02:00 -> hit, value 1_500_00, threshold
 * 1_750_00. After 250_00 more on slots the next withdrawal is no hit (requirement met).
 *
 * Out of order: bets within grace are kept briefly, so a bonus whose deposit event arrives after
 * bets placed under it still counts them. A late deposit or bet (beyond grace) is flagged `late`
 * and still applied; a withdrawal is always evaluated (it gets one decision), even when late.
 * Sums are in the bet's minor units: pitboss does not convert currencies, bets in another
 * currency than the bonus's do not count.
 */
import { DAY_MS, defineDetector, type Observation } from './detector.js'
import { BET_STEP_PARAM, addGrant, countsBet, forfeits, grantOf, isActiveAt, pruneGrants, type BetStep, type BonusGrant } from './bonus-tracking.js'
import { appendLatest, isLate, keepFrom, sameId } from './windows.js'

export interface ContributionPercentByGameType {
  readonly SLOT: number
  readonly LIVE_TABLE: number
  readonly POKER: number
  readonly SPORTS: number
  readonly OTHER: number
}

export interface BonusWageringUnmetParams {
  /** What the multiplier applies to. */
  readonly requirementBase: 'bonus' | 'deposit_plus_bonus'
  /** How long a bonus stays active after its deposit. */
  readonly bonusValidityMs: number
  /** Share of a bet's stake that counts as turnover, per game family, in percent (0..100). */
  readonly contributionPercentByGameType: ContributionPercentByGameType
  readonly countBetsOn: BetStep
  readonly graceMs: number
  /** Upper bound on the bonuses kept in state (the newest are kept). */
  readonly maxTrackedBonuses: number
}

interface TrackedBonus extends BonusGrant {
  readonly requiredMinor: number
  readonly wageredMinor: number
}

interface RecentBet {
  readonly eventId: string
  readonly eventTimeMs: number
  readonly turnoverMinor: number
  readonly currency: string
}

export interface BonusWageringUnmetState {
  readonly bonuses: readonly TrackedBonus[]
  /** Counted bets within grace of stream time, for a bonus whose deposit arrives after them. */
  readonly recentBets: readonly RecentBet[]
}

// Bounds the recent-bet list even for a bot betting many times a second within the grace.
const MAX_RECENT_BETS = 500

function hasBet(bets: readonly RecentBet[], eventId: string): boolean {
  for (const bet of bets) if (sameId(bet.eventId, eventId)) return true
  return false
}

/** The state itself when neither list changed (the processor then keeps its stored entry), else a new one. */
function unchangedOr(state: BonusWageringUnmetState, bonuses: readonly TrackedBonus[], recentBets: readonly RecentBet[]): BonusWageringUnmetState {
  return bonuses === state.bonuses && recentBets === state.recentBets ? state : { bonuses, recentBets }
}

/** The bonuses with a bet's turnover added to those active at its time in its currency; the same list when none is. */
function countTurnover(bonuses: readonly TrackedBonus[], currency: string, eventTimeMs: number, turnoverMinor: number, bonusValidityMs: number): readonly TrackedBonus[] {
  let counted: TrackedBonus[] | null = null
  for (let index = 0; index < bonuses.length; index += 1) {
    const bonus = bonuses[index] as TrackedBonus
    if (bonus.currency !== currency || !isActiveAt(bonus, eventTimeMs, bonusValidityMs)) continue
    counted ??= bonuses.slice()
    counted[index] = { ...bonus, wageredMinor: bonus.wageredMinor + turnoverMinor }
  }
  return counted ?? bonuses
}

const requiredFor = (grant: BonusGrant, params: BonusWageringUnmetParams): number =>
  (params.requirementBase === 'bonus' ? grant.bonusAmountMinor : grant.depositAmountMinor + grant.bonusAmountMinor) * grant.multiplier

const turnoverOf = (stakeMinor: number, gameType: keyof ContributionPercentByGameType, params: BonusWageringUnmetParams): number =>
  Math.floor((stakeMinor * params.contributionPercentByGameType[gameType]) / 100)

export const bonusWageringUnmet = defineDetector({
  id: 'bonus_wagering_unmet',
  version: 1,
  description: 'withdrawal while an active deposit bonus has its wagering requirement (bonus x multiplier) unmet',
  accepts: ['deposit', 'bet', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['requirementBase', 'bonusValidityMs', 'contributionPercentByGameType', 'countBetsOn', 'graceMs'],
    properties: {
      requirementBase: { enum: ['bonus', 'deposit_plus_bonus'] },
      bonusValidityMs: { type: 'integer', minimum: 1, maximum: 365 * DAY_MS },
      contributionPercentByGameType: {
        type: 'object',
        additionalProperties: false,
        required: ['SLOT', 'LIVE_TABLE', 'POKER', 'SPORTS', 'OTHER'],
        properties: Object.fromEntries(['SLOT', 'LIVE_TABLE', 'POKER', 'SPORTS', 'OTHER'].map((gameType) => [gameType, { type: 'integer', minimum: 0, maximum: 100 }])),
      },
      countBetsOn: BET_STEP_PARAM,
      graceMs: { type: 'integer', minimum: 0, maximum: DAY_MS },
      maxTrackedBonuses: { type: 'integer', minimum: 1, maximum: 100, default: 20 },
    },
  },
  init: (): BonusWageringUnmetState => ({ bonuses: [], recentBets: [] }),
  step(state: BonusWageringUnmetState, event, params: BonusWageringUnmetParams, context) {
    const late = isLate(event.eventTimeMs, context.streamTimeMs, params.graceMs)
    // Lists are copied only when they change: this runs on every bet.
    const recentBets = keepFrom(state.recentBets, context.streamTimeMs - params.graceMs)
    const bonuses = pruneGrants(state.bonuses, context.streamTimeMs, params.bonusValidityMs, params.graceMs)

    if (event.kind === 'deposit') {
      const grant = grantOf(event)
      if (grant !== null) {
        // Bets already seen that fall under this bonus (its deposit event arrived after them).
        const wageredMinor = recentBets
          .filter((bet) => bet.currency === grant.currency && isActiveAt(grant, bet.eventTimeMs, params.bonusValidityMs))
          .reduce((sum, bet) => sum + bet.turnoverMinor, 0)
        const tracked: TrackedBonus = { ...grant, requiredMinor: requiredFor(grant, params), wageredMinor }
        return { state: { bonuses: addGrant(bonuses, tracked, params.maxTrackedBonuses), recentBets }, observation: null, late }
      }
      const kept = forfeits(event) ? bonuses.filter((bonus) => bonus.depositId !== event.depositId) : bonuses
      return { state: unchangedOr(state, kept, recentBets), observation: null, late }
    }

    if (event.kind === 'bet') {
      // A redelivered bet (same event id, still within grace) is not counted twice.
      if (!countsBet(event, params.countBetsOn) || hasBet(recentBets, event.eventId)) {
        return { state: unchangedOr(state, bonuses, recentBets), observation: null, late }
      }
      const turnoverMinor = turnoverOf(event.stakeMinor, event.gameType, params)
      const counted = countTurnover(bonuses, event.currency, event.eventTimeMs, turnoverMinor, params.bonusValidityMs)
      let nextRecent = recentBets
      if (!late) {
        nextRecent = appendLatest(recentBets, { eventId: event.eventId, eventTimeMs: event.eventTimeMs, turnoverMinor, currency: event.currency }, MAX_RECENT_BETS)
      } else if (recentBets.length > MAX_RECENT_BETS) {
        nextRecent = recentBets.slice(recentBets.length - MAX_RECENT_BETS)
      }
      return { state: { bonuses: counted, recentBets: nextRecent }, observation: null, late }
    }

    if (event.type !== 'REQUESTED') return { state: unchangedOr(state, bonuses, recentBets), observation: null, late }
    const unmet = bonuses
      .filter((bonus) => isActiveAt(bonus, event.eventTimeMs, params.bonusValidityMs) && bonus.wageredMinor < bonus.requiredMinor)
      // The bonus furthest from its requirement is the one to show; ties go to the oldest.
      .sort((left, right) => (right.requiredMinor - right.wageredMinor) - (left.requiredMinor - left.wageredMinor) || left.grantedAtMs - right.grantedAtMs)
    const worst = unmet[0]
    const observation: Observation = worst === undefined
      ? {
          hit: false, value: null, threshold: null, detail: 'no active bonus with its wagering requirement unmet',
          evidenceEventIds: [event.eventId], windowStartMs: null, windowEndMs: null,
        }
      : {
          hit: true,
          value: worst.wageredMinor,
          threshold: worst.requiredMinor,
          detail: `bonus of ${worst.bonusAmountMinor} minor units (deposit ${worst.depositId}) wagered ${worst.wageredMinor} of ${worst.requiredMinor} required`
            + (unmet.length > 1 ? `; ${unmet.length} bonuses unmet` : ''),
          evidenceEventIds: [...unmet.map((bonus) => bonus.eventId), event.eventId],
          windowStartMs: worst.grantedAtMs,
          windowEndMs: event.eventTimeMs,
        }
    return { state: unchangedOr(state, bonuses, recentBets), observation, late }
  },
})
