/**
 * A small, seeded event fixture: players in three jurisdictions and tiers who register, log
 * in, deposit, bet and withdraw over a few days, a share of them in bursts of withdrawals.
 * Deterministic for a seed. It feeds the demo and the integration tests until the casino
 * simulator (its own issue) lands.
 *
 * Example: generateFixture({ seed: 7, players: 50, days: 3 }) -> events in event-time order
 */
import { seededRandom } from '../core/seeded-random.js'
import type { InputTopicKey } from '../core/topics.js'
import type { Bet, Deposit, DeviceActivity, PlayerChange, Transfer, Withdrawal } from '../schemas/generated/types.js'
import { bet, deposit, device, player, withdrawal } from './events.js'

export type FixtureEvent =
  | { readonly topic: 'players'; readonly value: PlayerChange }
  | { readonly topic: 'devices'; readonly value: DeviceActivity }
  | { readonly topic: 'deposits'; readonly value: Deposit }
  | { readonly topic: 'bets'; readonly value: Bet }
  | { readonly topic: 'withdrawals'; readonly value: Withdrawal }
  | { readonly topic: 'transfers'; readonly value: Transfer }

export type FixtureTopic = FixtureEvent['topic'] & InputTopicKey

export interface FixtureOptions {
  readonly seed: number
  readonly players: number
  readonly days: number
  /** Start of the fixture's event time (default 2026-01-05T00:00:00Z). */
  readonly startMs?: number
}

const HOUR_MS = 60 * 60 * 1000
const DAY_MS = 24 * HOUR_MS
const JURISDICTIONS = ['MT', 'UK', 'CW'] as const
const TIERS = ['NEW', 'VERIFIED', 'VERIFIED', 'VIP'] as const

export function generateFixture(options: FixtureOptions): FixtureEvent[] {
  const random = seededRandom(options.seed)
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const startMs = options.startMs ?? Date.UTC(2026, 0, 5)
  const events: FixtureEvent[] = []
  for (let index = 0; index < options.players; index += 1) {
    const playerId = `player-${String(index).padStart(5, '0')}`
    const jurisdiction = pick(JURISDICTIONS)
    let timeMs = startMs + Math.floor(random() * HOUR_MS)
    const country = jurisdiction === 'UK' ? 'GB' : jurisdiction === 'CW' ? 'CW' : 'MT'
    events.push({ topic: 'players', value: player({ playerId, eventTimeMs: timeMs, jurisdiction, tier: pick(TIERS), country }) })
    const burst = random() < 0.15
    const endMs = startMs + options.days * DAY_MS
    let sequence = 0
    while (timeMs < endMs) {
      timeMs += Math.floor(random() * 12 * HOUR_MS) + 60_000
      sequence += 1
      events.push({ topic: 'devices', value: device({ playerId, eventTimeMs: timeMs, ipCountry: country }) })
      const amountMinor = Math.round(10_00 * Math.exp(random() * 4))
      events.push({ topic: 'deposits', value: deposit({ playerId, eventTimeMs: timeMs + 1_000, depositId: `dep-${playerId}-${sequence}`, amountMinor }) })
      for (let spin = 0; spin < 3; spin += 1) {
        const stakeMinor = Math.max(10, Math.round(amountMinor / 20))
        events.push({ topic: 'bets', value: bet({ playerId, eventTimeMs: timeMs + 2_000 + spin * 5_000, betId: `bet-${playerId}-${sequence}-${spin}`, stakeMinor, winMinor: random() < 0.45 ? stakeMinor * 2 : 0 }) })
      }
      const requests = burst && random() < 0.5 ? 2 + Math.floor(random() * 4) : random() < 0.25 ? 1 : 0
      for (let request = 0; request < requests; request += 1) {
        events.push({ topic: 'withdrawals', value: withdrawal({ playerId, eventTimeMs: timeMs + 60_000 + request * 20 * 60_000, withdrawalId: `wd-${playerId}-${sequence}-${request}`, amountMinor: Math.round(amountMinor * (0.5 + random())) }) })
      }
    }
  }
  return events.sort((a, b) => a.value.eventTimeMs - b.value.eventTimeMs || a.value.playerId.localeCompare(b.value.playerId))
}
