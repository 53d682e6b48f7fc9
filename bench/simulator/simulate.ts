/**
 * The casino simulator's entry point: an ordinary population plus planted, labelled typologies,
 * as input events in event-time order and the labels. Pure and deterministic for a seed (no
 * clock, no `Math.random()`, no I/O): the same options give the same events, byte for byte once
 * written (see json-lines.ts).
 *
 * Example:
 *   const { events, labels } = simulate({ seed: 7, players: 2000, days: 1, sanctionedName })
 *   // events[0] -> { topic: 'players', value: { type: 'REGISTERED', ... } }
 *   // labels    -> [{ typology: 'structuring', playerIds: ['player-3f9a...'], fromMs, toMs }, ...]
 */
import { livePopulation } from './population.js'
import { SeededRandom } from './random.js'
import { PLANTERS, plantSanctionedName, type SanctionedName } from './typologies.js'
import { DAY_MS, HOUR_MS, World, type SimulatedEvent, type TypologyLabel } from './world.js'

export interface SimulatorOptions {
  readonly seed: number
  /** Ordinary players; the planted ones come on top (a few per typology). */
  readonly players: number
  readonly days: number
  /** Start of the simulated period (default 2026-01-05T00:00:00Z, a Monday). */
  readonly startMs?: number
  /** Instances of each typology (default one per 500 players, at least one). */
  readonly instancesPerTypology?: number
  /** A name from a sanctions list (sanctions.ts reads one); without it no sanctioned name is planted. */
  readonly sanctionedName?: SanctionedName | null
  /** Called as ordinary players are generated (for a progress bar). */
  readonly onProgress?: (donePlayers: number, totalPlayers: number) => void
}

export interface Simulation {
  readonly events: SimulatedEvent[]
  readonly labels: TypologyLabel[]
  readonly startMs: number
  readonly endMs: number
}

export const DEFAULT_START_MS = Date.UTC(2026, 0, 5)

export function simulate(options: SimulatorOptions): Simulation {
  if (!Number.isInteger(options.players) || options.players < 0) throw new RangeError(`players must be a whole number >= 0, got ${options.players}`)
  if (!Number.isInteger(options.days) || options.days < 1) throw new RangeError(`days must be a whole number >= 1, got ${options.days}`)
  const random = new SeededRandom(options.seed)
  const world = new World(options.startMs ?? DEFAULT_START_MS, options.days, random.fork('player-ids'))
  livePopulation(world, random.fork('population'), options.players, (done) => options.onProgress?.(done, options.players))
  const instances = options.instancesPerTypology ?? Math.max(1, Math.round(options.players / 500))
  const planting = random.fork('typologies')
  // Planted instances start in the first three quarters of the period, the last one ends within it.
  const startOf = (): number => world.startMs + HOUR_MS + Math.floor(planting.next() * (options.days * DAY_MS * 0.75 - HOUR_MS))
  for (let instance = 0; instance < instances; instance += 1) {
    for (const [typology, plant] of PLANTERS) plant(world, planting.fork(`${typology}:${instance}`), startOf())
  }
  if (options.sanctionedName != null) plantSanctionedName(world, planting.fork('sanctioned_name'), startOf(), options.sanctionedName)
  return { events: world.sorted(), labels: world.labels, startMs: world.startMs, endMs: world.endMs }
}
