/**
 * Builders of input events on the wire (the generated Avro types), with every field set, for
 * tests, the demo fixture and benchmarks. Defaults are plain; pass what matters to the case.
 *
 * Example: withdrawal({ playerId: 'p1', withdrawalId: 'w1', eventTimeMs: 60_000, amountMinor: 50_00 })
 */
import type { Bet, Deposit, DeviceActivity, PaymentInstrument, PlayerChange, Transfer, Withdrawal } from '../schemas/generated/types.js'

type Base = { playerId: string; eventTimeMs: number; eventId?: string }

const instrumentOf = (token: string): PaymentInstrument => ({ token, cardBin: null, walletAddress: null, holderName: null })

export function player(fields: Base & Partial<PlayerChange>): PlayerChange {
  return {
    eventId: `pl:${fields.playerId}:${fields.eventTimeMs}`, type: 'REGISTERED', jurisdiction: 'MT', tier: 'VERIFIED',
    firstName: null, lastName: null, dateOfBirth: null, country: null, emailHash: null, phoneHash: null, referrerPlayerId: null,
    kycStatus: 'VERIFIED', kycLevel: null, selfExcludedUntilMs: null, ...fields,
  }
}

export function device(fields: Base & Partial<DeviceActivity>): DeviceActivity {
  return {
    eventId: `dv:${fields.playerId}:${fields.eventTimeMs}`, type: 'LOGIN', sessionId: `s:${fields.playerId}:${fields.eventTimeMs}`,
    deviceFingerprint: `fp:${fields.playerId}`, ip: '198.51.100.7', asn: 64500, ipCountry: 'MT', isProxy: false, isVpn: false, isTor: false, userAgent: null, ...fields,
  }
}

export function deposit(fields: Base & Partial<Deposit>): Deposit {
  const depositId = fields.depositId ?? `dep:${fields.playerId}:${fields.eventTimeMs}`
  return {
    eventId: `ev:${depositId}`, depositId, status: 'COMPLETED', amountMinor: 100_00, currency: 'EUR', method: 'CARD',
    instrument: instrumentOf(`card:${fields.playerId}`), psp: 'psp-a', bonusAmountMinor: null, wageringRequirementMultiplier: null, ...fields,
  }
}

export function bet(fields: Base & Partial<Bet>): Bet {
  const betId = fields.betId ?? `bet:${fields.playerId}:${fields.eventTimeMs}`
  return {
    eventId: `ev:${betId}`, betId, type: 'SETTLED', gameId: 'slot-1', gameType: 'SLOT', tableId: null, roundId: null, side: null,
    stakeMinor: 1_00, winMinor: 0, currency: 'EUR', bonusFunds: false, sessionId: null, ...fields,
  }
}

export function withdrawal(fields: Base & Partial<Withdrawal>): Withdrawal {
  const withdrawalId = fields.withdrawalId ?? `wd:${fields.playerId}:${fields.eventTimeMs}`
  return {
    eventId: `ev:${withdrawalId}`, withdrawalId, type: 'REQUESTED', amountMinor: 50_00, currency: 'EUR', method: 'CARD',
    instrument: instrumentOf(`card:${fields.playerId}`), ...fields,
  }
}

export function transfer(fields: Base & Partial<Transfer> & { toPlayerId: string }): Transfer {
  const transferId = fields.transferId ?? `tr:${fields.playerId}:${fields.eventTimeMs}`
  return { eventId: `ev:${transferId}`, transferId, kind: 'P2P', amountMinor: 10_00, currency: 'EUR', tableId: null, ...fields }
}
