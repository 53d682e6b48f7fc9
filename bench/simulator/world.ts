/**
 * The simulator's model of a casino: personas (a player with a residence, currency, devices,
 * a payment instrument, a balance and an active bonus), and the acts they perform (register,
 * log in, deposit, bet, withdraw, transfer), each appended to one event log as wire events built
 * by bench/events.ts. The population and the planted typologies are written in these acts.
 *
 * Example:
 *   const world = new World(Date.UTC(2026, 0, 5), 1)
 *   const persona = world.newPersona(random, { jurisdiction: 'MT', tier: 'VERIFIED' })
 *   world.register(persona, world.startMs - DAY_MS)
 *   let timeMs = world.login(persona, world.startMs + HOUR_MS)
 *   timeMs = world.deposit(persona, timeMs, 50_00)
 */
import type { Bet, GameType, PaymentInstrument, PaymentMethod, PlayerTier, TransferKind } from '../../schemas/generated/types.js'
import { bet, deposit, device, player, transfer, withdrawal } from '../events.js'
import type { FixtureEvent } from '../fixture.js'
import type { SeededRandom } from './random.js'

export const SECOND_MS = 1000
export const MINUTE_MS = 60 * SECOND_MS
export const HOUR_MS = 60 * MINUTE_MS
export const DAY_MS = 24 * HOUR_MS

/** One input event of the simulation: the same shape as the fixture's, so both feed the same replay. */
export type SimulatedEvent = FixtureEvent

/** The planted typologies, as the labels name them. */
export const TYPOLOGIES = {
  structuring: 'structuring',
  passThrough: 'pass_through',
  multiAccountFarm: 'multi_account_farm',
  bonusAbuseFarm: 'bonus_abuse_farm',
  chipDumping: 'chip_dumping',
  moneyFlowRing: 'money_flow_ring',
  sanctionedName: 'sanctioned_name',
  impossibleTravel: 'impossible_travel',
  lossChasing: 'loss_chasing',
} as const
export type Typology = (typeof TYPOLOGIES)[keyof typeof TYPOLOGIES]

/** Ground truth of one planted instance: who took part, between which event times (inclusive). */
export interface TypologyLabel {
  readonly typology: Typology
  readonly playerIds: readonly string[]
  readonly fromMs: number
  readonly toMs: number
}

export type Jurisdiction = 'MT' | 'UK' | 'CW'

/** Where a network is: country, its ASN and an IPv4 /16 the simulator draws addresses from. */
interface Network { readonly country: string; readonly asn: number; readonly prefix: string }
const NETWORKS: Readonly<Record<string, readonly Network[]>> = {
  MT: [{ country: 'MT', asn: 15735, prefix: '185.89' }, { country: 'MT', asn: 12709, prefix: '46.11' }],
  GB: [{ country: 'GB', asn: 2856, prefix: '81.152' }, { country: 'GB', asn: 5089, prefix: '82.24' }, { country: 'GB', asn: 5607, prefix: '90.200' }],
  DE: [{ country: 'DE', asn: 3320, prefix: '84.150' }],
  FI: [{ country: 'FI', asn: 719, prefix: '85.76' }],
  IE: [{ country: 'IE', asn: 5466, prefix: '86.40' }],
  AT: [{ country: 'AT', asn: 8447, prefix: '91.112' }],
  NO: [{ country: 'NO', asn: 2119, prefix: '88.88' }],
  CA: [{ country: 'CA', asn: 812, prefix: '99.224' }, { country: 'CA', asn: 577, prefix: '70.24' }],
  BR: [{ country: 'BR', asn: 28573, prefix: '177.32' }],
  MX: [{ country: 'MX', asn: 8151, prefix: '187.140' }],
  PE: [{ country: 'PE', asn: 6147, prefix: '190.40' }],
  JP: [{ country: 'JP', asn: 2516, prefix: '106.128' }],
  AU: [{ country: 'AU', asn: 1221, prefix: '110.140' }],
  US: [{ country: 'US', asn: 7922, prefix: '73.12' }],
}
/** A commercial VPN's network (its ASN is on the rule set's high-risk list). */
const VPN_NETWORK: Network = { country: 'NL', asn: 14061, prefix: '188.166' }

/** Residences by licence: a Maltese licence serves the EU, a Curaçao one the Americas. */
const RESIDENCES: Readonly<Record<Jurisdiction, ReadonlyArray<readonly [string, number]>>> = {
  MT: [['MT', 30], ['DE', 25], ['FI', 15], ['IE', 10], ['AT', 10], ['NO', 10]],
  UK: [['GB', 100]],
  CW: [['CA', 40], ['BR', 25], ['MX', 20], ['PE', 15]],
}
/** Offset of local time from UTC for the daily rhythm (minutes, winter). */
const UTC_OFFSET_MINUTES: Readonly<Record<string, number>> = { MT: 60, DE: 60, AT: 60, NO: 60, FI: 120, IE: 0, GB: 0, CA: -300, BR: -180, MX: -360, PE: -300 }

const FIRST_NAMES = ['Anna', 'Luca', 'Maria', 'John', 'Sofia', 'Mateo', 'Emma', 'Oliver', 'Lena', 'Noah', 'Mia', 'Liam', 'Elena', 'Jakob', 'Aino', 'Sean', 'Ingrid', 'Lucas', 'Camila', 'Diego', 'Hana', 'Ethan', 'Chloe', 'Marco']
const LAST_NAMES = ['Borg', 'Camilleri', 'Smith', 'Jones', 'Müller', 'Schmidt', 'Virtanen', 'Murphy', 'Gruber', 'Hansen', 'Tremblay', 'Silva', 'Santos', 'García', 'Hernández', 'Quispe', 'Brown', 'Walsh', 'Fischer', 'Korhonen', 'Olsen', 'Wilson', 'Rossi', 'Vella']

export interface Device { readonly fingerprint: string; readonly ip: string; readonly asn: number; readonly country: string; readonly userAgent: string }
export interface Instrument { readonly method: PaymentMethod; readonly instrument: PaymentInstrument; readonly psp: string }

/** A deposit bonus in force: the turnover its terms still ask for, and the largest bonus-funds stake they allow. */
interface ActiveBonus { remainingTurnoverMinor: number; readonly maxBetMinor: number }

export interface Persona {
  readonly playerId: string
  readonly jurisdiction: Jurisdiction
  tier: PlayerTier
  readonly country: string
  readonly currency: string
  readonly utcOffsetMinutes: number
  readonly firstName: string
  readonly lastName: string
  readonly dateOfBirth: string
  readonly devices: Device[]
  instrument: Instrument
  readonly favouriteGames: ReadonlyArray<readonly [GameType, number]>
  balanceMinor: number
  bonus: ActiveBonus | null
  lastDepositMinor: number
  /** Counter for event ids: unique per persona, so ids are unique per run. */
  sequence: number
}

export interface PersonaOverrides {
  readonly playerId?: string
  readonly jurisdiction?: Jurisdiction
  readonly tier?: PlayerTier
  readonly country?: string
  readonly firstName?: string
  readonly lastName?: string
  /** YYYY-MM-DD; the random one is still drawn, so other personas do not change. */
  readonly dateOfBirth?: string
  readonly method?: PaymentMethod
}

/** House edge by game: the return to player as a probability of a win and its multiplier. */
const GAME_RULES = {
  SLOT: { gameIds: ['slot-book-of-ra', 'slot-starburst', 'slot-gates', 'slot-bonanza'], winChance: 0.3, betSpacingMs: [4 * SECOND_MS, 12 * SECOND_MS], settleAfterMs: 0 },
  LIVE_TABLE: { gameIds: ['live-roulette', 'live-baccarat', 'live-blackjack'], winChance: 18 / 37, betSpacingMs: [35 * SECOND_MS, 70 * SECOND_MS], settleAfterMs: 25 * SECOND_MS },
  SPORTS: { gameIds: ['sports-football', 'sports-tennis', 'sports-basketball'], winChance: 0.48, betSpacingMs: [2 * MINUTE_MS, 8 * MINUTE_MS], settleAfterMs: 90 * MINUTE_MS },
  POKER: { gameIds: ['poker-holdem', 'poker-omaha'], winChance: 0.45, betSpacingMs: [60 * SECOND_MS, 150 * SECOND_MS], settleAfterMs: 45 * SECOND_MS },
  OTHER: { gameIds: ['crash-aviator'], winChance: 0.5, betSpacingMs: [10 * SECOND_MS, 30 * SECOND_MS], settleAfterMs: 0 },
} as const satisfies Record<GameType, unknown>
/** Share of a stake a bet returns on average (1 - house edge). */
const RETURN_TO_PLAYER: Readonly<Record<GameType, number>> = { SLOT: 0.96, LIVE_TABLE: 0.973, SPORTS: 0.93, POKER: 0.95, OTHER: 0.97 }
/** Turnover a bet counts towards a bonus's wagering, percent (the shipped rule set's figures). */
const BONUS_CONTRIBUTION_PERCENT: Readonly<Record<GameType, number>> = { SLOT: 100, LIVE_TABLE: 10, POKER: 0, SPORTS: 100, OTHER: 100 }

export interface BetOptions {
  readonly stakeMinor: number
  /** Force the outcome: the win in minor units (0 = a loss); drawn from the game's odds when absent. */
  readonly winMinor?: number
  readonly tableId?: string | null
  readonly roundId?: string | null
  readonly side?: string | null
  readonly sessionId?: string | null
}

/** The event log and the acts personas perform; every act returns the event time after it. */
export class World {
  readonly events: SimulatedEvent[] = []
  readonly labels: TypologyLabel[] = []
  private readonly playerIds = new Set<string>()
  readonly endMs: number

  constructor(readonly startMs: number, days: number, private readonly idRandom: SeededRandom) {
    this.endMs = startMs + days * DAY_MS
  }

  /** An opaque player id (not sequential, so a planted player does not stand out by its id). */
  private newPlayerId(): string {
    for (;;) {
      const playerId = `player-${this.idRandom.hex(10)}`
      if (!this.playerIds.has(playerId)) {
        this.playerIds.add(playerId)
        return playerId
      }
    }
  }

  newPersona(random: SeededRandom, overrides: PersonaOverrides = {}): Persona {
    const jurisdiction = overrides.jurisdiction ?? random.weighted<Jurisdiction>([['MT', 45], ['UK', 35], ['CW', 20]])
    const country = overrides.country ?? random.weighted(RESIDENCES[jurisdiction])
    const tier = overrides.tier ?? random.weighted<PlayerTier>([['NEW', 35], ['VERIFIED', 55], ['VIP', 10]])
    const firstName = overrides.firstName ?? random.pick(FIRST_NAMES)
    const lastName = overrides.lastName ?? random.pick(LAST_NAMES)
    const birthYear = random.integer(1952, 2003)
    const persona: Persona = {
      playerId: overrides.playerId ?? this.newPlayerId(),
      jurisdiction, tier, country,
      currency: jurisdiction === 'UK' ? 'GBP' : 'EUR',
      utcOffsetMinutes: UTC_OFFSET_MINUTES[country] ?? 0,
      firstName, lastName,
      dateOfBirth: ((generated: string) => overrides.dateOfBirth ?? generated)(`${birthYear}-${String(random.integer(1, 12)).padStart(2, '0')}-${String(random.integer(1, 28)).padStart(2, '0')}`),
      devices: [],
      instrument: { method: 'CARD', instrument: { token: '', cardBin: null, walletAddress: null, holderName: null }, psp: 'psp-a' },
      favouriteGames: random.pick<ReadonlyArray<readonly [GameType, number]>>([
        [['SLOT', 85], ['LIVE_TABLE', 10], ['OTHER', 5]],
        [['SLOT', 50], ['LIVE_TABLE', 30], ['SPORTS', 20]],
        [['SPORTS', 80], ['SLOT', 20]],
        [['LIVE_TABLE', 70], ['POKER', 20], ['SLOT', 10]],
      ]),
      balanceMinor: 0, bonus: null, lastDepositMinor: 0, sequence: 0,
    }
    persona.devices.push(this.newDevice(random, country))
    if (random.chance(0.4)) persona.devices.push(this.newDevice(random, country))
    persona.instrument = this.newInstrument(random, persona, overrides.method)
    return persona
  }

  newDevice(random: SeededRandom, country: string, network?: 'vpn'): Device {
    const choice = network === 'vpn' ? VPN_NETWORK : random.pick(NETWORKS[country] ?? NETWORKS.MT as readonly Network[])
    const mobile = random.chance(0.55)
    return {
      fingerprint: `fp-${random.hex(16)}`,
      ip: `${choice.prefix}.${random.integer(0, 255)}.${random.integer(1, 254)}`,
      asn: choice.asn, country: choice.country,
      userAgent: mobile ? random.pick(['Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X)', 'Mozilla/5.0 (Linux; Android 14; SM-S918B)']) : random.pick(['Mozilla/5.0 (Windows NT 10.0; Win64; x64)', 'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4)']),
    }
  }

  newInstrument(random: SeededRandom, persona: Pick<Persona, 'firstName' | 'lastName'>, method?: PaymentMethod, holderName?: string): Instrument {
    const chosen = method ?? random.weighted<PaymentMethod>([['CARD', 60], ['EWALLET', 24], ['BANK_TRANSFER', 8], ['CRYPTO', 6], ['PREPAID', 2]])
    const holder = holderName ?? `${persona.firstName} ${persona.lastName}`.toUpperCase()
    const psp = random.pick(['adyen', 'worldpay', 'nuvei', 'paysafe'])
    switch (chosen) {
      case 'CARD': return { method: chosen, psp, instrument: { token: `card-${random.hex(12)}`, cardBin: random.pick(['453201', '535522', '492181', '510510']), walletAddress: null, holderName: holder } }
      case 'CRYPTO': {
        const address = `0x${random.hex(40)}`
        return { method: chosen, psp: 'coinspaid', instrument: { token: address, cardBin: null, walletAddress: address, holderName: null } }
      }
      case 'BANK_TRANSFER': return { method: chosen, psp, instrument: { token: `iban-${random.hex(12)}`, cardBin: null, walletAddress: null, holderName: holder } }
      default: return { method: chosen, psp, instrument: { token: `${chosen.toLowerCase()}-${random.hex(12)}`, cardBin: null, walletAddress: null, holderName: chosen === 'EWALLET' ? holder : null } }
    }
  }

  label(typology: Typology, playerIds: readonly string[], fromMs: number, toMs: number): void {
    this.labels.push({ typology, playerIds: [...playerIds], fromMs, toMs })
  }

  private id(persona: Persona, prefix: string): string {
    persona.sequence += 1
    return `${prefix}-${persona.playerId.slice(7)}-${persona.sequence}`
  }

  /** A new player's registration (KYC not done yet), with its referrer if any. */
  register(persona: Persona, timeMs: number, fields: { readonly referrerPlayerId?: string } = {}): number {
    return this.profile(persona, timeMs, 'REGISTERED', 'NONE', fields.referrerPlayerId ?? null)
  }

  /**
   * A player who registered before the simulated period, as the operator's backfill sends it
   * when pitboss is switched on: a full PROFILE_UPDATED just before the period. (Not their
   * REGISTERED event of months ago: the engine dead-letters events more than a day ahead of
   * stream time, so a stream cannot jump from last year to today.)
   */
  existing(persona: Persona, timeMs: number): number {
    return this.profile(persona, timeMs, 'PROFILE_UPDATED', 'VERIFIED', null)
  }

  private profile(persona: Persona, timeMs: number, type: 'REGISTERED' | 'PROFILE_UPDATED', kycStatus: 'NONE' | 'VERIFIED', referrerPlayerId: string | null): number {
    this.events.push({ topic: 'players', value: player({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'pl'), type,
      jurisdiction: persona.jurisdiction, tier: persona.tier, firstName: persona.firstName, lastName: persona.lastName,
      dateOfBirth: persona.dateOfBirth, country: persona.country, emailHash: `em-${persona.playerId.slice(7)}`, phoneHash: null,
      referrerPlayerId, kycStatus, kycLevel: kycStatus === 'VERIFIED' ? 2 : 0,
    }) })
    return timeMs + SECOND_MS
  }

  kyc(persona: Persona, timeMs: number, kycStatus: 'PENDING' | 'VERIFIED' | 'REJECTED', tier?: PlayerTier): number {
    if (tier !== undefined) persona.tier = tier
    this.events.push({ topic: 'players', value: player({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'pl'), type: 'KYC_CHANGED', jurisdiction: persona.jurisdiction,
      tier: tier ?? null, kycStatus, kycLevel: kycStatus === 'VERIFIED' ? 2 : kycStatus === 'PENDING' ? 1 : 0,
    }) })
    return timeMs + SECOND_MS
  }

  /** A LOGIN then a SESSION_START from one of the persona's devices (or `use`); returns the time after, and the session id. */
  login(persona: Persona, timeMs: number, use?: Device): { timeMs: number; sessionId: string } {
    const chosen = use ?? persona.devices[0] as Device
    const sessionId = this.id(persona, 'ss')
    for (const [type, offsetMs] of [['LOGIN', 0], ['SESSION_START', 2 * SECOND_MS]] as const) {
      this.events.push({ topic: 'devices', value: device({
        playerId: persona.playerId, eventTimeMs: timeMs + offsetMs, eventId: this.id(persona, 'dv'), type, sessionId,
        deviceFingerprint: chosen.fingerprint, ip: chosen.ip, asn: chosen.asn, ipCountry: chosen.country,
        isProxy: false, isVpn: chosen.asn === VPN_NETWORK.asn, isTor: false, userAgent: chosen.userAgent,
      }) })
    }
    return { timeMs: timeMs + 5 * SECOND_MS, sessionId }
  }

  logout(persona: Persona, timeMs: number, sessionId: string, use?: Device): number {
    const chosen = use ?? persona.devices[0] as Device
    this.events.push({ topic: 'devices', value: device({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'dv'), type: 'SESSION_END', sessionId,
      deviceFingerprint: chosen.fingerprint, ip: chosen.ip, asn: chosen.asn, ipCountry: chosen.country,
      isProxy: false, isVpn: chosen.asn === VPN_NETWORK.asn, isTor: false, userAgent: chosen.userAgent,
    }) })
    return timeMs + SECOND_MS
  }

  /** A completed deposit (or FAILED, which moves no money); a bonus starts its wagering. Returns the time after, and the deposit id. */
  deposit(persona: Persona, timeMs: number, amountMinor: number, options: { readonly bonusAmountMinor?: number; readonly wageringMultiplier?: number; readonly status?: 'COMPLETED' | 'FAILED'; readonly instrument?: Instrument } = {}): { timeMs: number; depositId: string } {
    const depositId = this.id(persona, 'dep')
    const status = options.status ?? 'COMPLETED'
    const chosen = options.instrument ?? persona.instrument
    const bonusAmountMinor = status === 'COMPLETED' ? options.bonusAmountMinor ?? null : null
    const multiplier = bonusAmountMinor === null ? null : options.wageringMultiplier ?? 35
    this.events.push({ topic: 'deposits', value: deposit({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'ev'), depositId, status, amountMinor, currency: persona.currency,
      method: chosen.method, instrument: chosen.instrument, psp: chosen.psp, bonusAmountMinor, wageringRequirementMultiplier: multiplier,
    }) })
    if (status === 'COMPLETED') {
      persona.balanceMinor += amountMinor + (bonusAmountMinor ?? 0)
      persona.lastDepositMinor = amountMinor
      if (bonusAmountMinor !== null && multiplier !== null) persona.bonus = { remainingTurnoverMinor: bonusAmountMinor * multiplier, maxBetMinor: persona.tier === 'VIP' ? 25_00 : 5_00 }
    }
    return { timeMs: timeMs + 20 * SECOND_MS, depositId }
  }

  /** A later status of an earlier deposit: CHARGEBACK, REVERSED, CANCELLED. */
  depositStatus(persona: Persona, timeMs: number, depositId: string, amountMinor: number, status: 'CHARGEBACK' | 'REVERSED' | 'CANCELLED'): void {
    this.events.push({ topic: 'deposits', value: deposit({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'ev'), depositId, status, amountMinor, currency: persona.currency,
      method: persona.instrument.method, instrument: persona.instrument.instrument, psp: persona.instrument.psp,
    }) })
  }

  /** One bet: SETTLED at once for slots, PLACED then SETTLED for tables and sports. Returns the time the next bet may start. */
  bet(persona: Persona, random: SeededRandom, timeMs: number, gameType: GameType, options: BetOptions): number {
    const rules = GAME_RULES[gameType]
    const stakeMinor = options.stakeMinor
    const winMinor = options.winMinor ?? (random.chance(rules.winChance) ? this.drawWin(random, gameType, stakeMinor) : 0)
    const bonusFunds = persona.bonus !== null
    const betId = this.id(persona, 'bet')
    const common: Partial<Bet> & { playerId: string; eventTimeMs: number } = {
      playerId: persona.playerId, eventTimeMs: timeMs, betId, gameId: random.pick(rules.gameIds), gameType,
      tableId: options.tableId ?? (gameType === 'LIVE_TABLE' || gameType === 'POKER' ? `${gameType.toLowerCase()}-table-${random.integer(1, 40)}` : null),
      roundId: options.roundId ?? null, side: options.side ?? null, stakeMinor, currency: persona.currency, bonusFunds, sessionId: options.sessionId ?? null,
    }
    if (rules.settleAfterMs > 0) this.events.push({ topic: 'bets', value: bet({ ...common, eventId: this.id(persona, 'ev'), type: 'PLACED', winMinor: 0 }) })
    this.events.push({ topic: 'bets', value: bet({ ...common, eventId: this.id(persona, 'ev'), eventTimeMs: timeMs + rules.settleAfterMs, type: 'SETTLED', winMinor }) })
    persona.balanceMinor += winMinor - stakeMinor
    if (persona.bonus !== null) {
      persona.bonus.remainingTurnoverMinor -= Math.floor((stakeMinor * BONUS_CONTRIBUTION_PERCENT[gameType]) / 100)
      // Wagering met (the bonus turns into cash) or the balance is gone (the bonus is forfeited).
      if (persona.bonus.remainingTurnoverMinor <= 0 || persona.balanceMinor < 1_00) persona.bonus = null
    }
    return timeMs + random.integer(rules.betSpacingMs[0], rules.betSpacingMs[1])
  }

  /** A win: the multiplier's mean makes the game's return to player; slots pay a heavy tail. */
  private drawWin(random: SeededRandom, gameType: GameType, stakeMinor: number): number {
    const rules = GAME_RULES[gameType]
    const meanMultiplier = RETURN_TO_PLAYER[gameType] / rules.winChance
    // Pareto(alpha 2.2) has mean 2.2/1.2 of its minimum: scale the minimum so the mean is right.
    const multiplier = gameType === 'SLOT' ? random.pareto(meanMultiplier * (1.2 / 2.2), 2.2) : meanMultiplier
    return Math.round(stakeMinor * multiplier)
  }

  /** A withdrawal request (money leaves the balance at once); returns the time after, and its id. */
  withdraw(persona: Persona, timeMs: number, amountMinor: number, instrument?: Instrument): { timeMs: number; withdrawalId: string } {
    const withdrawalId = this.id(persona, 'wd')
    const chosen = instrument ?? persona.instrument
    this.events.push({ topic: 'withdrawals', value: withdrawal({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'ev'), withdrawalId, type: 'REQUESTED', amountMinor,
      currency: persona.currency, method: chosen.method, instrument: chosen.instrument,
    }) })
    persona.balanceMinor -= amountMinor
    return { timeMs: timeMs + 30 * SECOND_MS, withdrawalId }
  }

  cancelWithdrawal(persona: Persona, timeMs: number, withdrawalId: string, amountMinor: number): void {
    this.events.push({ topic: 'withdrawals', value: withdrawal({
      playerId: persona.playerId, eventTimeMs: timeMs, eventId: this.id(persona, 'ev'), withdrawalId, type: 'CANCELLED', amountMinor,
      currency: persona.currency, method: persona.instrument.method, instrument: persona.instrument.instrument,
    }) })
    persona.balanceMinor += amountMinor
  }

  transfer(from: Persona, to: Persona, timeMs: number, amountMinor: number, kind: TransferKind = 'P2P', tableId: string | null = null): number {
    this.events.push({ topic: 'transfers', value: transfer({
      playerId: from.playerId, toPlayerId: to.playerId, eventTimeMs: timeMs, eventId: this.id(from, 'ev'), transferId: this.id(from, 'tr'),
      kind, amountMinor, currency: from.currency, tableId,
    }) })
    from.balanceMinor -= amountMinor
    to.balanceMinor += amountMinor
    return timeMs + 10 * SECOND_MS
  }

  /** Events in event-time order; ties keep the order they were written in (the sort is stable). */
  sorted(): SimulatedEvent[] {
    return [...this.events].sort((a, b) => a.value.eventTimeMs - b.value.eventTimeMs)
  }
}

/** Round an amount to a whole number of `unitMinor` (people deposit 50.00, not 47.13), at least one unit. */
export function roundTo(amountMinor: number, unitMinor: number): number {
  return Math.max(unitMinor, Math.round(amountMinor / unitMinor) * unitMinor)
}
