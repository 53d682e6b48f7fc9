/**
 * A realistic STR draft for the tests: a Maltese operator, a player with full KYC, card and
 * e-wallet deposits in EUR, one deposit in JPY (0 decimals) with its EUR equivalent, a payout,
 * and transfers both ways with another player. Tests change it with spreads.
 */
import { readFile } from 'node:fs/promises'
import { loadConfig } from '../../../core/config.js'
import type { StrDraft, StrReportingEntity, StrSubject, StrTransaction } from '../../../sinks/str/draft.js'
import { goamlSchemaPath } from '../../../sinks/str/validate.js'

export const SCHEMA_PATH = goamlSchemaPath(loadConfig({}).referenceDataDir)
export const SUBMISSION_TIME_MS = Date.UTC(2026, 5, 4, 10, 0, 0)
const DAY_MS = 24 * 60 * 60 * 1000
const START_MS = Date.UTC(2026, 4, 20, 21, 15, 0)

export const reportingEntity: StrReportingEntity = {
  entityId: 4711,
  branch: 'Remote gaming',
  name: 'Example Gaming Ltd',
  countryCode: 'MT',
  address: { type: 'business', line: 'Level 3, Portomaso Business Tower', city: 'St Julians', postalCode: 'STJ 4011', countryCode: 'MT', state: 'Central Region' },
  reportingPerson: { firstName: 'Maria', lastName: 'Camilleri', occupation: 'MLRO', email: 'mlro@example-gaming.com', phone: { type: 'business', communication: 'landline', countryPrefix: '356', number: '21234567' } },
  transactionLocation: 'Online casino www.example-gaming.com',
}

export const subject: StrSubject = {
  playerId: 'p-1001',
  firstName: 'Jose',
  middleName: null,
  lastName: "O'Brien-Muller",
  originalName: "José O'Brien-Müller",
  gender: 'male',
  dateOfBirth: '1990-02-14',
  nationalityCountryCode: 'ES',
  residenceCountryCode: 'MT',
  idNumber: 'X1234567Z',
  identifications: [{ type: 'passport', number: 'PAB123456', issueDate: '2019-03-01', expiryDate: '2029-02-28', issueCountryCode: 'ES', issuedBy: 'Ministerio del Interior' }],
  addresses: [{ type: 'residence', line: '12 Triq il-Kbira', city: 'Sliema', postalCode: 'SLM 1000', countryCode: 'MT', state: 'Central Region' }],
  phones: [{ type: 'private', communication: 'mobile', countryPrefix: '356', number: '79123456' }],
  emails: ['jose.obrien@example.com'],
  occupation: 'Sales manager',
  taxRegistered: null,
  instruments: [{ method: 'CARD', token: 'card_9f2c', cardBin: '411111', walletAddress: null, holderName: "J O'Brien", psp: 'adyen' }],
}

const card = { method: 'CARD', token: 'card_9f2c', cardBin: '411111', walletAddress: null, holderName: "J O'Brien", psp: 'adyen' }
const ewallet = { method: 'EWALLET', token: 'ew_77a1', cardBin: null, walletAddress: null, holderName: 'A Third Person', psp: 'skrill' }

function transaction(overrides: Partial<StrTransaction> & Pick<StrTransaction, 'transactionId' | 'kind' | 'eventTimeMs' | 'amountMinor'>): StrTransaction {
  return { currency: 'EUR', localAmountMinor: null, exchangeRate: null, status: 'COMPLETED', instrument: card, counterparty: null, description: null, ...overrides }
}

export const transactions: readonly StrTransaction[] = [
  transaction({ transactionId: 'dep-1', kind: 'deposit', eventTimeMs: START_MS, amountMinor: 1_950_00 }),
  transaction({ transactionId: 'dep-2', kind: 'deposit', eventTimeMs: START_MS + 2 * 60 * 60 * 1000, amountMinor: 1_990_00 }),
  transaction({ transactionId: 'dep-3', kind: 'deposit', eventTimeMs: START_MS + 5 * 60 * 60 * 1000, amountMinor: 1_980_00, instrument: ewallet }),
  transaction({ transactionId: 'dep-jp-4', kind: 'deposit', eventTimeMs: START_MS + DAY_MS, amountMinor: 300_000, currency: 'JPY', localAmountMinor: 1_830_00, exchangeRate: '0.0061' }),
  transaction({ transactionId: 'tr-5', kind: 'transfer_out', eventTimeMs: START_MS + DAY_MS + 3_600_000, amountMinor: 500_00, instrument: null, status: 'P2P',
    counterparty: { playerId: 'p-2002', firstName: 'Anna', lastName: 'Borg', countryCode: 'MT' } }),
  transaction({ transactionId: 'tr-6', kind: 'transfer_in', eventTimeMs: START_MS + DAY_MS + 7_200_000, amountMinor: 1, instrument: null, status: 'TIP',
    counterparty: { playerId: 'p-2002', firstName: 'Anna', lastName: 'Borg', countryCode: 'MT' } }),
  transaction({ transactionId: 'wd-7', kind: 'withdrawal', eventTimeMs: START_MS + 2 * DAY_MS, amountMinor: 7_400_00, status: 'REQUESTED', instrument: ewallet }),
]

export const approvedDraft: StrDraft = {
  draftId: 'str-case-42-1',
  caseId: 'case-42',
  revision: 3,
  status: 'approved',
  reportingEntity,
  localCurrency: 'EUR',
  subject,
  transactions,
  indicators: [{ code: 'CTRGB', sources: [] }, { code: 'ML002', sources: ['deposit_structuring'] }, { code: 'ARIET', sources: ['pass_through'] }],
  narrative: 'Four deposits just under EUR 2000 within 30 hours, then a payout of 7400.00 EUR to a third-party e-wallet after 2 bets.',
  action: 'Withdrawal wd-7 declined; account restricted pending review',
  approvedBy: 'officer-7',
  approvedAtMs: SUBMISSION_TIME_MS - 60_000,
}

/** The enumeration values of one simpleType of the goAML XSD. */
export async function schemaEnumeration(typeName: string): Promise<Set<string>> {
  const schema = await readFile(SCHEMA_PATH, 'utf8')
  const start = schema.indexOf(`<xs:simpleType name="${typeName}">`)
  const block = schema.slice(start, schema.indexOf('</xs:simpleType>', start))
  return new Set([...block.matchAll(/<xs:enumeration value="([^"]*)"/g)].map((match) => match[1] as string))
}
