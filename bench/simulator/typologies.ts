/**
 * The planted typologies: each function writes one labelled instance into the world, with the
 * shape the matching detectors (detectors/rule-sets/default.json) or the link graph look for.
 * Planted players are registered like everyone else and get opaque ids, so only the labels tell
 * them apart.
 *
 * Example: plantStructuring(world, random, world.startMs + 3 * 3_600_000) -> 3 deposits just under the threshold, a withdrawal
 */
import type { SeededRandom } from './random.js'
import { MINUTE_MS, SECOND_MS, TYPOLOGIES, roundTo, type Persona, type Typology, type World } from './world.js'

/** Reporting / due-diligence thresholds of the shipped rule set (EUR 2,000; about GBP 1,700). */
const REPORTING_THRESHOLD_MINOR = { EUR: 2000_00, GBP: 1700_00 } as const
const thresholdOf = (persona: Persona): number => REPORTING_THRESHOLD_MINOR[persona.currency as 'EUR' | 'GBP'] ?? REPORTING_THRESHOLD_MINOR.EUR

/** A player who registered months ago and is verified: most planted roles are established accounts. */
function establishedPersona(world: World, random: SeededRandom, overrides: Parameters<World['newPersona']>[1] = {}): Persona {
  const persona = world.newPersona(random, { tier: 'VERIFIED', jurisdiction: random.pick(['MT', 'UK'] as const), ...overrides })
  world.existing(persona, world.startMs - random.integer(1, 3600) * SECOND_MS)
  return persona
}

/** Bets of `count` x about `stakeMinor` on one game; returns the time after. */
function bets(world: World, random: SeededRandom, persona: Persona, timeMs: number, count: number, stakeMinor: number, sessionId: string, gameType: 'SLOT' | 'LIVE_TABLE' = 'SLOT'): number {
  let nowMs = timeMs
  for (let index = 0; index < count && persona.balanceMinor >= stakeMinor; index += 1) nowMs = world.bet(persona, random, nowMs, gameType, { stakeMinor, sessionId })
  return nowMs
}

/** Deposits each just under the reporting threshold within hours (deposit_structuring's count pattern), played through, then cashed out. */
export function plantStructuring(world: World, random: SeededRandom, startMs: number): void {
  const persona = establishedPersona(world, random)
  const thresholdMinor = thresholdOf(persona)
  let timeMs = startMs
  for (let index = 0; index < 3; index += 1) {
    const session = world.login(persona, timeMs)
    const amountMinor = roundTo(thresholdMinor * (0.905 + 0.09 * random.next()), 1_00)
    timeMs = world.deposit(persona, session.timeMs, amountMinor).timeMs
    // Enough real play (a third of the money) that it is not also a pass-through.
    timeMs = bets(world, random, persona, timeMs, 12, roundTo(amountMinor / 35, 1_00), session.sessionId, 'LIVE_TABLE')
    timeMs = world.logout(persona, timeMs, session.sessionId) + random.integer(40, 150) * MINUTE_MS
  }
  const session = world.login(persona, timeMs)
  const done = world.withdraw(persona, session.timeMs, roundTo(persona.balanceMinor * 0.9, 1_00))
  world.logout(persona, done.timeMs, session.sessionId)
  world.label(TYPOLOGIES.structuring, [persona.playerId], startMs, done.timeMs)
}

/** A large deposit, a token few spins, most of it withdrawn to another instrument within hours (pass_through). */
export function plantPassThrough(world: World, random: SeededRandom, startMs: number): void {
  const persona = establishedPersona(world, random, { method: 'CARD' })
  const session = world.login(persona, startMs)
  const amountMinor = roundTo(random.logNormal(Math.log(3000_00), 0.4), 50_00)
  let timeMs = world.deposit(persona, session.timeMs, amountMinor).timeMs
  timeMs = bets(world, random, persona, timeMs, random.integer(3, 8), roundTo(amountMinor / 100, 1_00), session.sessionId)
  timeMs += random.integer(20, 120) * MINUTE_MS
  const payout = world.newInstrument(random, persona, 'BANK_TRANSFER')
  const done = world.withdraw(persona, timeMs, roundTo(Math.min(persona.balanceMinor, amountMinor * (0.9 + 0.08 * random.next())), 1_00), payout)
  world.logout(persona, done.timeMs, session.sessionId)
  world.label(TYPOLOGIES.passThrough, [persona.playerId], startMs, done.timeMs)
}

/**
 * Several fresh accounts run from one device and one connection, funded by one card in the
 * controller's name (not the accounts' names), cashing out what they win to it.
 */
export function plantMultiAccountFarm(world: World, random: SeededRandom, startMs: number): void {
  const size = random.integer(4, 7)
  const controller = world.newPersona(random, {})
  const sharedDevice = world.newDevice(random, controller.country)
  const sharedCard = world.newInstrument(random, controller, 'CARD')
  const members: Persona[] = []
  let timeMs = startMs
  for (let index = 0; index < size; index += 1) {
    const member = world.newPersona(random, { tier: 'NEW', jurisdiction: controller.jurisdiction, country: controller.country })
    member.instrument = sharedCard
    members.push(member)
    timeMs = world.register(member, timeMs + random.integer(2, 15) * MINUTE_MS)
    const session = world.login(member, timeMs, sharedDevice)
    timeMs = world.deposit(member, session.timeMs, roundTo(random.logNormal(Math.log(30_00), 0.4), 5_00)).timeMs
    timeMs = bets(world, random, member, timeMs, random.integer(10, 30), 1_00, session.sessionId)
    if (member.balanceMinor >= 10_00) timeMs = world.withdraw(member, timeMs, roundTo(member.balanceMinor - 50, 1_00)).timeMs
    timeMs = world.logout(member, timeMs, session.sessionId, sharedDevice)
  }
  world.label(TYPOLOGIES.multiAccountFarm, members.map((member) => member.playerId), startMs, timeMs)
}

/**
 * A referral chain of new accounts on two shared devices, each taking the welcome bonus on a
 * minimum deposit, hedging bonus money at one live table (opposite sides of the same round, over
 * the bonus's maximum bet), and cashing out before the wagering is met.
 */
export function plantBonusAbuseFarm(world: World, random: SeededRandom, startMs: number): void {
  const size = random.integer(3, 6)
  const first = world.newPersona(random, { tier: 'NEW' })
  const devices = [world.newDevice(random, first.country), world.newDevice(random, first.country)]
  const tableId = `live_table-table-${random.integer(41, 60)}`
  const members: Persona[] = []
  let timeMs = startMs
  for (let index = 0; index < size; index += 1) {
    const member = index === 0 ? first : world.newPersona(random, { tier: 'NEW', jurisdiction: first.jurisdiction, country: first.country })
    members.push(member)
    timeMs = world.register(member, timeMs + random.integer(1, 10) * MINUTE_MS, index === 0 ? {} : { referrerPlayerId: first.playerId })
  }
  const sessions = members.map((member, index) => {
    const session = world.login(member, timeMs + index * 20 * SECOND_MS, devices[index % 2])
    world.deposit(member, session.timeMs, 20_00, { bonusAmountMinor: 20_00, wageringMultiplier: 35 })
    return session
  })
  timeMs += 5 * MINUTE_MS
  for (let round = 0; round < 4; round += 1) {
    const roundId = `round-${tableId}-${Math.floor(timeMs / SECOND_MS)}`
    members.forEach((member, index) => {
      const wins = index % 2 === round % 2
      world.bet(member, random, timeMs + index * SECOND_MS, 'LIVE_TABLE', { stakeMinor: 10_00, winMinor: wins ? 20_00 : 0, tableId, roundId, side: index % 2 === 0 ? 'PLAYER' : 'BANKER', sessionId: sessions[index]?.sessionId ?? null })
    })
    timeMs += random.integer(40, 70) * SECOND_MS
  }
  members.forEach((member, index) => {
    if (member.balanceMinor >= 10_00) timeMs = world.withdraw(member, timeMs + index * 30 * SECOND_MS, roundTo(member.balanceMinor - 50, 1_00)).timeMs
    world.logout(member, timeMs, sessions[index]?.sessionId ?? '', devices[index % 2])
  })
  world.label(TYPOLOGIES.bonusAbuseFarm, members.map((member) => member.playerId), startMs, timeMs + SECOND_MS)
}

/** Chip dumping at a poker table: one funded player loses hands on purpose to a partner and passes the rest over in chip transfers; the partner cashes out. */
export function plantChipDumping(world: World, random: SeededRandom, startMs: number): void {
  const dumper = establishedPersona(world, random, { jurisdiction: 'MT' })
  const receiver = establishedPersona(world, random, { jurisdiction: 'MT' })
  const tableId = `poker-table-${random.integer(41, 60)}`
  const dumperSession = world.login(dumper, startMs)
  const receiverSession = world.login(receiver, startMs + random.integer(1, 5) * MINUTE_MS)
  const depositMinor = roundTo(random.logNormal(Math.log(2500_00), 0.3), 50_00)
  let timeMs = world.deposit(dumper, dumperSession.timeMs, depositMinor).timeMs
  world.deposit(receiver, receiverSession.timeMs, 50_00)
  timeMs = Math.max(timeMs, receiverSession.timeMs) + MINUTE_MS
  const hands = random.integer(6, 10)
  for (let hand = 0; hand < hands; hand += 1) {
    const roundId = `hand-${tableId}-${hand}-${Math.floor(timeMs / SECOND_MS)}`
    const stakeMinor = roundTo(depositMinor / 40, 1_00)
    world.bet(dumper, random, timeMs, 'POKER', { stakeMinor, winMinor: 0, tableId, roundId, side: 'seat-2', sessionId: dumperSession.sessionId })
    timeMs = world.bet(receiver, random, timeMs + 2 * SECOND_MS, 'POKER', { stakeMinor: 2_00, winMinor: 2_00 + stakeMinor, tableId, roundId, side: 'seat-5', sessionId: receiverSession.sessionId })
  }
  for (let index = 0; index < 2; index += 1) timeMs = world.transfer(dumper, receiver, timeMs + random.integer(1, 5) * MINUTE_MS, roundTo(dumper.balanceMinor * 0.45, 1_00), 'CHIP_TRANSFER', tableId)
  world.logout(dumper, timeMs, dumperSession.sessionId)
  const done = world.withdraw(receiver, timeMs + random.integer(10, 60) * MINUTE_MS, roundTo(receiver.balanceMinor * 0.95, 1_00))
  world.logout(receiver, done.timeMs, receiverSession.sessionId)
  world.label(TYPOLOGIES.chipDumping, [dumper.playerId, receiver.playerId], startMs, done.timeMs)
}

/** A ring of accounts passing deposited money round in P2P transfers (A -> B -> C -> A), layering it before one of them cashes out. */
export function plantMoneyFlowRing(world: World, random: SeededRandom, startMs: number): void {
  const size = random.integer(3, 5)
  const jurisdiction = random.pick(['MT', 'CW'] as const)
  const members = Array.from({ length: size }, () => establishedPersona(world, random, { jurisdiction }))
  let timeMs = startMs
  const sessions = members.map((member) => {
    const session = world.login(member, timeMs)
    timeMs = world.deposit(member, session.timeMs, roundTo(random.logNormal(Math.log(1800_00), 0.25), 50_00)).timeMs + random.integer(1, 10) * MINUTE_MS
    return session
  })
  for (let lap = 0; lap < 2; lap += 1) {
    members.forEach((member, index) => {
      const next = members[(index + 1) % members.length] as Persona
      timeMs = world.transfer(member, next, timeMs + random.integer(2, 20) * MINUTE_MS, roundTo(member.balanceMinor * 0.85, 1_00))
    })
  }
  const casher = random.pick(members)
  const done = world.withdraw(casher, timeMs + random.integer(10, 40) * MINUTE_MS, roundTo(casher.balanceMinor * 0.9, 1_00))
  members.forEach((member, index) => world.logout(member, done.timeMs + index * SECOND_MS, sessions[index]?.sessionId ?? ''))
  world.label(TYPOLOGIES.moneyFlowRing, members.map((member) => member.playerId), startMs, done.timeMs + members.length * SECOND_MS)
}

/** A player registering under a name on a sanctions list, then playing as anyone would. */
export function plantSanctionedName(world: World, random: SeededRandom, startMs: number, name: SanctionedName): void {
  const persona = world.newPersona(random, { tier: 'NEW', firstName: name.firstName, lastName: name.lastName, ...(name.dateOfBirth ? { dateOfBirth: name.dateOfBirth } : {}) })
  let timeMs = world.register(persona, startMs)
  const session = world.login(persona, timeMs + MINUTE_MS)
  timeMs = world.deposit(persona, session.timeMs, 200_00).timeMs
  timeMs = bets(world, random, persona, timeMs, 15, 2_00, session.sessionId)
  const done = world.withdraw(persona, timeMs, roundTo(persona.balanceMinor * 0.8, 1_00))
  world.logout(persona, done.timeMs, session.sessionId)
  world.label(TYPOLOGIES.sanctionedName, [persona.playerId], startMs, done.timeMs)
}

/** Logins from home and, two hours later, from another continent (no VPN), then a withdrawal: a taken-over account. */
export function plantImpossibleTravel(world: World, random: SeededRandom, startMs: number): void {
  const persona = establishedPersona(world, random)
  const home = world.login(persona, startMs)
  let timeMs = world.deposit(persona, home.timeMs, 100_00).timeMs
  timeMs = world.logout(persona, bets(world, random, persona, timeMs, 10, 2_00, home.sessionId), home.sessionId)
  const far = world.newDevice(random, random.pick(['JP', 'AU', 'BR', 'US']))
  const away = world.login(persona, timeMs + random.integer(60, 150) * MINUTE_MS, far)
  const done = world.withdraw(persona, away.timeMs, roundTo(Math.max(persona.balanceMinor * 0.9, 1_00), 1_00))
  world.logout(persona, done.timeMs, away.sessionId, far)
  world.label(TYPOLOGIES.impossibleTravel, [persona.playerId], startMs, done.timeMs)
}

/** Rising deposits after losing most of each one, late in the evening (loss_chasing). */
export function plantLossChasing(world: World, random: SeededRandom, startMs: number): void {
  const persona = establishedPersona(world, random)
  const session = world.login(persona, startMs)
  let timeMs = session.timeMs
  let amountMinor = roundTo(random.logNormal(Math.log(50_00), 0.3), 5_00)
  const deposits = random.integer(4, 5)
  for (let index = 0; index < deposits; index += 1) {
    timeMs = world.deposit(persona, timeMs, amountMinor).timeMs
    // A losing streak: the whole deposit goes, in stakes of a tenth.
    const stakeMinor = roundTo(amountMinor / 10, 10)
    while (persona.balanceMinor >= stakeMinor) timeMs = world.bet(persona, random, timeMs, 'SLOT', { stakeMinor, winMinor: 0, sessionId: session.sessionId })
    timeMs += random.integer(2, 15) * MINUTE_MS
    amountMinor = roundTo(amountMinor * (1.5 + random.next()), 5_00)
  }
  const doneMs = world.logout(persona, timeMs, session.sessionId)
  world.label(TYPOLOGIES.lossChasing, [persona.playerId], startMs, doneMs)
}

/** A real name from a sanctions list, as `firstName` / `lastName`, with the list's date of birth when it gives an exact one (see sanctions.ts). */
export interface SanctionedName { readonly firstName: string; readonly lastName: string; readonly dateOfBirth?: string | null }

type Plant = (world: World, random: SeededRandom, startMs: number) => void
/** Every typology but the sanctioned name (which needs a name from the reference data). */
export const PLANTERS: ReadonlyArray<readonly [Typology, Plant]> = [
  [TYPOLOGIES.structuring, plantStructuring],
  [TYPOLOGIES.passThrough, plantPassThrough],
  [TYPOLOGIES.multiAccountFarm, plantMultiAccountFarm],
  [TYPOLOGIES.bonusAbuseFarm, plantBonusAbuseFarm],
  [TYPOLOGIES.chipDumping, plantChipDumping],
  [TYPOLOGIES.moneyFlowRing, plantMoneyFlowRing],
  [TYPOLOGIES.impossibleTravel, plantImpossibleTravel],
  [TYPOLOGIES.lossChasing, plantLossChasing],
]
