/**
 * The ordinary population: players who registered before the simulated period or register during
 * it (KYC pending, then verified or rejected hours later), and play sessions on a daily rhythm
 * (local evenings, quiet nights): a login, perhaps a deposit (log-normal amounts, a welcome bonus
 * with 35x wagering for some new players, a failed card now and then), bets of their favourite
 * games at the house edge, perhaps a withdrawal to the same instrument, perhaps a tip to a friend.
 * A few cards are charged back; a few households share a device. Nobody here is planted: the alerts
 * they raise are the detectors' false positives (or true but unlabelled signals, like RG ones).
 *
 * Example: livePopulation(world, random, 2000) -> the personas, with their events in `world`
 */
import type { GameType } from '../../schemas/generated/types.js'
import type { SeededRandom } from './random.js'
import { DAY_MS, HOUR_MS, MINUTE_MS, SECOND_MS, roundTo, type Persona, type World } from './world.js'

/** Weight of each local hour for starting a session: evenings peak, 03:00-07:00 is quiet. */
const HOUR_WEIGHTS = [3, 2, 1, 0.5, 0.3, 0.3, 0.5, 1, 2, 3, 3, 3, 4, 4, 4, 4, 5, 6, 8, 10, 11, 10, 8, 5] as const
const LOCAL_HOURS: ReadonlyArray<readonly [number, number]> = HOUR_WEIGHTS.map((weight, hour) => [hour, weight] as const)

/** Median deposit by tier, minor units. */
const MEDIAN_DEPOSIT_MINOR = { NEW: 20_00, VERIFIED: 40_00, VIP: 400_00 } as const

/** Creates `count` ordinary personas and writes their whole period into the world. */
export function livePopulation(world: World, random: SeededRandom, count: number, onPlayer?: (done: number) => void): Persona[] {
  const personas: Persona[] = []
  for (let index = 0; index < count; index += 1) {
    const own = random.fork(`player:${index}`)
    const newcomer = own.chance(0.25)
    const persona = world.newPersona(own, newcomer ? { tier: 'NEW' } : {})
    personas.push(persona)
    // Households: now and then two accounts share a tablet and a home connection.
    const previous = personas[personas.length - 2]
    if (previous !== undefined && previous.country === persona.country && own.chance(0.02)) persona.devices.push(previous.devices[0] as typeof persona.devices[0])
    live(world, own, persona, newcomer)
    onPlayer?.(index + 1)
  }
  // Friends who tip each other: pairs among a small share of the players.
  const friends = random.fork('friends')
  for (let index = 0; index + 1 < personas.length; index += 2) {
    const a = personas[index] as Persona
    const b = personas[index + 1] as Persona
    if (a.currency !== b.currency || !friends.chance(0.03)) continue
    const timeMs = world.startMs + Math.floor(friends.next() * (world.endMs - world.startMs))
    world.transfer(a, b, timeMs, roundTo(friends.logNormal(Math.log(15_00), 0.6), 1_00), friends.pick(['P2P', 'TIP'] as const))
  }
  return personas
}

function live(world: World, random: SeededRandom, persona: Persona, newcomer: boolean): void {
  const periodMs = world.endMs - world.startMs
  if (newcomer) {
    const registeredAtMs = world.startMs + Math.floor(random.next() * periodMs * 0.8)
    world.register(persona, registeredAtMs)
    // KYC is asked for after registration and takes hours; some stay pending, a few are rejected.
    const pendingAtMs = registeredAtMs + random.integer(5, 60) * MINUTE_MS
    world.kyc(persona, pendingAtMs, 'PENDING')
    const outcome = random.weighted([['VERIFIED', 75], ['PENDING', 20], ['REJECTED', 5]] as const)
    if (outcome !== 'PENDING') world.kyc(persona, pendingAtMs + random.integer(1, 20) * HOUR_MS, outcome)
    firstVisit(world, random, persona, registeredAtMs + 30 * SECOND_MS)
  } else {
    world.existing(persona, world.startMs - random.integer(1, 3600) * SECOND_MS)
  }
  // Heavy-tailed engagement: most play now and then, a few every day.
  const activeShare = Math.min(0.95, random.pareto(0.2, 1.6))
  for (let dayStartMs = world.startMs; dayStartMs < world.endMs; dayStartMs += DAY_MS) {
    if (!random.chance(activeShare)) continue
    const sessions = 1 + (random.chance(0.35) ? 1 : 0) + (random.chance(0.1) ? 1 : 0)
    const starts = Array.from({ length: sessions }, () => dayStartMs + random.weighted(LOCAL_HOURS) * HOUR_MS + random.integer(0, 59) * MINUTE_MS - persona.utcOffsetMinutes * MINUTE_MS).sort((a, b) => a - b)
    let freeAtMs = 0
    for (const startMs of starts) {
      const beginMs = Math.max(startMs, freeAtMs)
      if (beginMs >= world.endMs) break
      freeAtMs = session(world, random, persona, beginMs) + 20 * MINUTE_MS
    }
  }
}

/** A newcomer's first deposit right after registering, with a welcome bonus half of the time. */
function firstVisit(world: World, random: SeededRandom, persona: Persona, timeMs: number): void {
  const session = world.login(persona, timeMs)
  const sessionId = session.sessionId
  let nowMs = session.timeMs
  const amountMinor = roundTo(random.logNormal(Math.log(MEDIAN_DEPOSIT_MINOR.NEW), 0.7), 5_00)
  const bonus = random.chance(0.5) ? { bonusAmountMinor: Math.min(amountMinor, 100_00), wageringMultiplier: 35 } : {}
  nowMs = world.deposit(persona, nowMs, amountMinor, bonus).timeMs
  nowMs = play(world, random, persona, nowMs, sessionId)
  world.logout(persona, nowMs, sessionId)
}

/** One session; returns when it ended. */
function session(world: World, random: SeededRandom, persona: Persona, startMs: number): number {
  // Now and then from another of the player's devices, rarely through a VPN.
  const use = random.chance(0.01) ? world.newDevice(random, persona.country, 'vpn') : random.chance(0.85) ? persona.devices[0] : random.pick(persona.devices)
  const session = world.login(persona, startMs, use)
  const sessionId = session.sessionId
  let timeMs = session.timeMs
  if (persona.balanceMinor < 10_00 || random.chance(0.25)) {
    const amountMinor = roundTo(random.logNormal(Math.log(MEDIAN_DEPOSIT_MINOR[persona.tier]), 0.9), 5_00)
    if (random.chance(0.04)) timeMs = world.deposit(persona, timeMs, amountMinor, { status: 'FAILED' }).timeMs + MINUTE_MS
    const made = world.deposit(persona, timeMs, amountMinor)
    timeMs = made.timeMs
    // A rare chargeback of a card deposit, hours later.
    if (persona.instrument.method === 'CARD' && random.chance(0.003)) world.depositStatus(persona, timeMs + random.integer(2, 20) * HOUR_MS, made.depositId, amountMinor, 'CHARGEBACK')
  }
  timeMs = play(world, random, persona, timeMs, sessionId)
  if (persona.bonus === null && persona.balanceMinor >= Math.max(20_00, persona.lastDepositMinor * 1.5) && random.chance(0.7)) {
    const amountMinor = roundTo(persona.balanceMinor * (0.6 + 0.4 * random.next()), 1_00)
    const made = world.withdraw(persona, timeMs, Math.min(amountMinor, persona.balanceMinor))
    timeMs = made.timeMs
    if (random.chance(0.03)) world.cancelWithdrawal(persona, timeMs + random.integer(5, 60) * MINUTE_MS, made.withdrawalId, amountMinor)
  }
  return world.logout(persona, timeMs, sessionId, use)
}

/** Bets until the planned count is reached or the balance runs out; returns the time after. */
function play(world: World, random: SeededRandom, persona: Persona, startMs: number, sessionId: string): number {
  const gameType: GameType = random.weighted(persona.favouriteGames)
  const planned = Math.min(300, Math.round(random.pareto(6, 1.4)))
  // Most sessions last minutes, a few hours; none runs past the planned length however many bets were in mind.
  const endMs = startMs + Math.min(4 * HOUR_MS, Math.round(random.pareto(10 * MINUTE_MS, 1.3)))
  let timeMs = startMs
  for (let count = 0; count < planned && timeMs < endMs; count += 1) {
    const base = Math.max(10, roundTo(persona.balanceMinor * (0.01 + 0.04 * random.next()), 10))
    // Bonus terms cap the stake while a bonus is active; ordinary players keep to them.
    const stakeMinor = persona.bonus === null ? base : Math.min(base, persona.bonus.maxBetMinor)
    if (stakeMinor > persona.balanceMinor) break
    timeMs = world.bet(persona, random, timeMs, gameType, { stakeMinor, sessionId })
  }
  return timeMs
}
