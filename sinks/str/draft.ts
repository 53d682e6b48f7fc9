/**
 * The STR draft: everything a suspicious transaction report says, typed, before it becomes a
 * regulator's file. An AML officer drafts it from a case (from-case.ts), edits it, approves it,
 * and exports it (validate.ts: goAML XML that validates against the FIU's schema).
 *
 * Rules the draft keeps itself (checkDraft), before any schema sees it:
 * - the reporting entity, the reporting person, and the subject are named (goAML names allow
 *   A-Z a-z 0-9 space . ' - only: transliterate, and keep the registered spelling in `originalName`);
 * - the subject has a date of birth, nationality, residence and at least one identification;
 * - at least one transaction; each with an id, an event time, an integer amount > 0 in minor
 *   units of a known currency, and, when not in the report's local currency, its local equivalent;
 * - at least one indicator; a narrative of at most 8000 characters.
 *
 * Money is integer minor units (number, bigint or digit string, see currency.ts); it becomes
 * decimal text only when rendered. Amounts up to the goAML bound of 7.9e15 major units are
 * supported (sql_decimal), e.g. up to 7.9e17 EUR cents, which needs a bigint or a digit string.
 *
 * Example:
 *   const approved = approveDraft(editDraft(draft, { narrative: 'Reviewed: ...' }), { approvedBy: 'officer-7', approvedAtMs })
 */
import { RiskError } from '../../core/errors.js'
import { isKnownCurrency, minorUnitsPerMajor, minorUnitsToBigInt, type MinorUnits } from './currency.js'
import type { StrIndicator } from './indicators.js'
import { hasForbiddenXmlCharacter } from './xml.js'

export type { MinorUnits } from './currency.js'
export type { StrIndicator } from './indicators.js'

export const STR_DRAFT_STATUSES = ['draft', 'approved'] as const
export type StrDraftStatus = (typeof STR_DRAFT_STATUSES)[number]

export const STR_TRANSACTION_KINDS = ['deposit', 'withdrawal', 'transfer_out', 'transfer_in'] as const
/** deposit: player -> operator; withdrawal: operator -> player's instrument; transfer_out/in: player <-> another player. */
export type StrTransactionKind = (typeof STR_TRANSACTION_KINDS)[number]

export type StrContactType = 'business' | 'private' | 'residence' | 'registered'

export interface StrAddress {
  readonly type: StrContactType
  /** Street and number. */
  readonly line: string
  readonly city: string
  readonly postalCode: string | null
  /** ISO 3166-1 alpha-2. */
  readonly countryCode: string
  /** State, region or province; goAML requires one, use the city's region where there is none. */
  readonly state: string
}

export interface StrPhone {
  readonly type: StrContactType
  readonly communication: 'mobile' | 'landline'
  /** Without '+', e.g. '356'. */
  readonly countryPrefix: string | null
  readonly number: string
}

export interface StrIdentification {
  readonly type: 'passport' | 'driving_licence' | 'national_id' | 'other'
  readonly number: string
  /** YYYY-MM-DD. */
  readonly issueDate: string
  /** YYYY-MM-DD. */
  readonly expiryDate: string
  readonly issueCountryCode: string
  readonly issuedBy: string | null
}

export interface StrReportingPerson {
  readonly firstName: string
  readonly lastName: string
  readonly occupation: string | null
  readonly email: string | null
  readonly phone: StrPhone | null
}

/** The operator filing the report, from configuration (see docs/str.md for the config fields). */
export interface StrReportingEntity {
  /** The reporting-entity id the FIU assigned (goAML rentity_id), an integer >= 1. */
  readonly entityId: number
  readonly branch: string | null
  /** Legal name; goAML name characters only. */
  readonly name: string
  /** Country of the licence, ISO 3166-1 alpha-2. */
  readonly countryCode: string
  readonly address: StrAddress | null
  readonly reportingPerson: StrReportingPerson
  /** Where the operator's transactions happen, e.g. 'Online casino www.example.com'. */
  readonly transactionLocation: string
}

/** A payment instrument as pitboss knows it: a token, never a card or account number. */
export interface StrInstrument {
  /** CARD, BANK_TRANSFER, EWALLET, CRYPTO, PREPAID or OTHER. */
  readonly method: string
  readonly token: string
  readonly cardBin: string | null
  readonly walletAddress: string | null
  readonly holderName: string | null
  readonly psp: string | null
}

export interface StrSubject {
  readonly playerId: string
  readonly firstName: string
  readonly middleName: string | null
  readonly lastName: string
  /** The name as registered when it needed transliteration for goAML; goes into the person's comments. */
  readonly originalName: string | null
  readonly gender: 'female' | 'male' | null
  /** YYYY-MM-DD. */
  readonly dateOfBirth: string
  readonly nationalityCountryCode: string
  readonly residenceCountryCode: string
  /** National id number when known (goAML id_number). */
  readonly idNumber: string | null
  readonly identifications: readonly StrIdentification[]
  readonly addresses: readonly StrAddress[]
  readonly phones: readonly StrPhone[]
  readonly emails: readonly string[]
  readonly occupation: string | null
  /** goAML tax_reg_number is a one-letter flag; null renders '-' (unknown). */
  readonly taxRegistered: boolean | null
  /** The player's payment instruments (deposits and payouts); listed in the person's comments. */
  readonly instruments: readonly StrInstrument[]
}

/** The other side of a transfer between players. */
export interface StrCounterparty {
  /** The counterparty's player id at the operator. */
  readonly playerId: string
  readonly firstName: string
  readonly lastName: string
  readonly countryCode: string
}

export interface StrTransaction {
  /** The operator's id (depositId, withdrawalId, transferId); at most 100 characters. */
  readonly transactionId: string
  readonly kind: StrTransactionKind
  readonly eventTimeMs: number
  readonly amountMinor: MinorUnits
  /** ISO 4217. */
  readonly currency: string
  /** The amount in the report's local currency, minor units; required when `currency` is not local. */
  readonly localAmountMinor: MinorUnits | null
  /** Rate used for the local amount, as decimal text (e.g. '0.0061'); null when not known. */
  readonly exchangeRate: string | null
  /** Status at the operator, e.g. COMPLETED, REQUESTED. */
  readonly status: string | null
  readonly instrument: StrInstrument | null
  /** Required for transfers. */
  readonly counterparty: StrCounterparty | null
  /** Free text; a description is generated when null. */
  readonly description: string | null
}

export interface StrDraft {
  /** Also the report's entity_reference. */
  readonly draftId: string
  readonly caseId: string
  /** 1 when drafted, +1 on each edit; lets the API refuse a stale edit. */
  readonly revision: number
  readonly status: StrDraftStatus
  readonly reportingEntity: StrReportingEntity
  /** ISO 4217 code of the report's amount_local values. */
  readonly localCurrency: string
  readonly subject: StrSubject
  readonly transactions: readonly StrTransaction[]
  readonly indicators: readonly StrIndicator[]
  /** The grounds for suspicion (goAML `reason`), at most 8000 characters. */
  readonly narrative: string
  /** What the operator did (goAML `action`), e.g. 'Withdrawal declined; account restricted'. */
  readonly action: string | null
  readonly approvedBy: string | null
  readonly approvedAtMs: number | null
}

/** A rule a draft breaks, with where (a path into the draft) and what to do. */
export interface StrProblem {
  readonly path: string
  readonly message: string
}

/** goAML's name pattern (first, middle, last and entity names). */
export const GOAML_NAME_PATTERN = /^[a-zA-Z0-9 .'-]*$/
export const NARRATIVE_MAX_CHARACTERS = 8000
/** sql_decimal's maximum, in major units. */
export const GOAML_MAX_AMOUNT_MAJOR = 7_900_000_000_000_000n
/** sql_date's minimum: 1753-01-01T00:00:00Z. */
const GOAML_MIN_TIME_MS = Date.UTC(1753, 0, 1)

/**
 * A name in goAML's characters: accents and other marks removed (José -> Jose, Müller -> Muller),
 * ß -> ss, Æ/Ø/Ł and the like to their usual Latin letters; any other character becomes a space,
 * runs of spaces collapse. Lossy on purpose: keep the registered spelling in `originalName`.
 */
export function toGoamlName(name: string): string {
  const spelled = name.normalize('NFKD').replace(/\p{M}/gu, '')
    .replace(/[ßæøłđþÆØŁĐÞœŒ]/g, (letter) => LATIN_SPELLINGS[letter] ?? letter)
  return spelled.replace(/[^a-zA-Z0-9 .'-]/g, ' ').replace(/\s+/g, ' ').trim()
}

const LATIN_SPELLINGS: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', Æ: 'AE', ø: 'o', Ø: 'O', ł: 'l', Ł: 'L', đ: 'd', Đ: 'D', þ: 'th', Þ: 'Th', œ: 'oe', Œ: 'OE',
}

/** The rules a draft breaks; empty when it may be approved and exported. */
export function checkDraft(draft: StrDraft): readonly StrProblem[] {
  const problems: StrProblem[] = []
  const problem = (path: string, message: string): void => { problems.push({ path, message }) }
  const required = (path: string, value: unknown, label: string): boolean => {
    if (typeof value !== 'string' || value.trim() === '') { problem(path, `${label} is required`); return false }
    return true
  }
  const name = (path: string, value: unknown, label: string): void => {
    if (required(path, value, label) && !GOAML_NAME_PATTERN.test(value as string)) {
      problem(path, `${label} '${String(value)}' has characters goAML refuses (A-Z a-z 0-9 space . ' - only); enter the transliterated form and keep the registered spelling in originalName`)
    }
  }
  const country = (path: string, value: unknown, label: string): void => {
    if (typeof value !== 'string' || !/^[A-Z]{2}$/.test(value)) problem(path, `${label} must be an ISO 3166-1 alpha-2 code such as MT, got '${String(value)}'`)
  }
  const calendarDate = (path: string, value: unknown, label: string): void => {
    if (!isCalendarDate(value)) problem(path, `${label} must be a date YYYY-MM-DD from 1753 on, got '${String(value)}'`)
  }

  const entity = draft.reportingEntity
  if (!Number.isInteger(entity?.entityId) || entity.entityId < 1 || entity.entityId > 2_147_483_647) {
    problem('reportingEntity.entityId', `the reporting-entity id must be the integer the FIU assigned (1 to 2147483647), got '${String(entity?.entityId)}'`)
  }
  name('reportingEntity.name', entity?.name, 'the operator\'s name')
  country('reportingEntity.countryCode', entity?.countryCode, 'the operator\'s country')
  required('reportingEntity.transactionLocation', entity?.transactionLocation, 'the transaction location')
  name('reportingEntity.reportingPerson.firstName', entity?.reportingPerson?.firstName, 'the reporting person\'s first name')
  name('reportingEntity.reportingPerson.lastName', entity?.reportingPerson?.lastName, 'the reporting person\'s last name')

  if (!isKnownCurrency(draft.localCurrency)) problem('localCurrency', `the local currency '${String(draft.localCurrency)}' is not in the minor-unit table (sinks/str/currency.ts)`)

  const subject = draft.subject
  required('subject.playerId', subject?.playerId, 'the subject\'s player id')
  name('subject.firstName', subject?.firstName, 'the subject\'s first name')
  if (subject?.middleName) name('subject.middleName', subject.middleName, 'the subject\'s middle name')
  name('subject.lastName', subject?.lastName, 'the subject\'s last name')
  calendarDate('subject.dateOfBirth', subject?.dateOfBirth, 'the subject\'s date of birth')
  country('subject.nationalityCountryCode', subject?.nationalityCountryCode, 'the subject\'s nationality')
  country('subject.residenceCountryCode', subject?.residenceCountryCode, 'the subject\'s country of residence')
  if (!subject?.identifications?.length) problem('subject.identifications', 'the subject needs at least one identification document (type, number, issue and expiry dates, issuing country)')
  subject?.identifications?.forEach((identification, index) => {
    const path = `subject.identifications[${index}]`
    required(`${path}.number`, identification.number, 'the document number')
    calendarDate(`${path}.issueDate`, identification.issueDate, 'the issue date')
    calendarDate(`${path}.expiryDate`, identification.expiryDate, 'the expiry date')
    country(`${path}.issueCountryCode`, identification.issueCountryCode, 'the issuing country')
  })
  subject?.addresses?.forEach((address, index) => {
    const path = `subject.addresses[${index}]`
    required(`${path}.line`, address.line, 'the address line')
    required(`${path}.city`, address.city, 'the city')
    required(`${path}.state`, address.state, 'the state or region')
    country(`${path}.countryCode`, address.countryCode, 'the address country')
  })

  if (!draft.transactions?.length) problem('transactions', 'an STR needs at least one transaction in scope')
  const seenIds = new Set<string>()
  draft.transactions?.forEach((transaction, index) => {
    const path = `transactions[${index}]`
    if (required(`${path}.transactionId`, transaction.transactionId, 'the transaction id')) {
      if (transaction.transactionId.length > 100) problem(`${path}.transactionId`, 'the transaction id is longer than goAML\'s 100 characters')
      if (seenIds.has(transaction.transactionId)) problem(`${path}.transactionId`, `transaction ${transaction.transactionId} is listed twice`)
      seenIds.add(transaction.transactionId)
    }
    if (!STR_TRANSACTION_KINDS.includes(transaction.kind)) problem(`${path}.kind`, `the kind must be one of ${STR_TRANSACTION_KINDS.join(', ')}, got '${String(transaction.kind)}'`)
    if (!Number.isSafeInteger(transaction.eventTimeMs) || transaction.eventTimeMs < GOAML_MIN_TIME_MS) problem(`${path}.eventTimeMs`, 'the event time must be epoch milliseconds from 1753 on')
    const currencyKnown = isKnownCurrency(transaction.currency)
    if (!currencyKnown) problem(`${path}.currency`, `currency '${String(transaction.currency)}' is not in the minor-unit table (sinks/str/currency.ts)`)
    positiveAmount(problem, `${path}.amountMinor`, transaction.amountMinor, currencyKnown ? transaction.currency : null)
    if (transaction.currency !== draft.localCurrency) {
      if (transaction.localAmountMinor === null || transaction.localAmountMinor === undefined) {
        problem(`${path}.localAmountMinor`, `the transaction is in ${String(transaction.currency)}: give its amount in the report's currency ${draft.localCurrency} too`)
      } else {
        positiveAmount(problem, `${path}.localAmountMinor`, transaction.localAmountMinor, isKnownCurrency(draft.localCurrency) ? draft.localCurrency : null)
      }
    }
    if (transaction.exchangeRate !== null && transaction.exchangeRate !== undefined && !/^\d{1,16}(\.\d{1,13})?$/.test(transaction.exchangeRate)) {
      problem(`${path}.exchangeRate`, `the exchange rate must be decimal text such as 0.0061, got '${transaction.exchangeRate}'`)
    }
    if (transaction.kind === 'transfer_out' || transaction.kind === 'transfer_in') {
      const counterparty = transaction.counterparty
      if (!counterparty) {
        problem(`${path}.counterparty`, 'a transfer needs its counterparty (the other player)')
      } else {
        name(`${path}.counterparty.firstName`, counterparty.firstName, 'the counterparty\'s first name')
        name(`${path}.counterparty.lastName`, counterparty.lastName, 'the counterparty\'s last name')
        country(`${path}.counterparty.countryCode`, counterparty.countryCode, 'the counterparty\'s country')
      }
    }
  })

  if (!draft.indicators?.length) problem('indicators', 'an STR needs at least one report indicator')
  draft.indicators?.forEach((indicator, index) => {
    if (typeof indicator.code !== 'string' || !/^[A-Z0-9]{5}$/.test(indicator.code)) problem(`indicators[${index}].code`, `indicator codes are five capitals or digits such as ML002, got '${String(indicator.code)}'`)
  })
  if (required('narrative', draft.narrative, 'the narrative') && draft.narrative.length > NARRATIVE_MAX_CHARACTERS) {
    problem('narrative', `the narrative has ${draft.narrative.length} characters; goAML takes at most ${NARRATIVE_MAX_CHARACTERS}`)
  }
  for (const [path, value] of stringsOf(draft, '')) {
    if (hasForbiddenXmlCharacter(value)) problem(path, 'holds a control character XML cannot carry')
  }
  return problems
}

function positiveAmount(problem: (path: string, message: string) => void, path: string, amount: unknown, currency: string | null): void {
  const value = minorUnitsToBigInt(amount)
  if (value === null) { problem(path, `the amount is required as an integer number of minor units, got '${String(amount)}'`); return }
  if (value <= 0n) { problem(path, `the amount must be positive, got ${value}`); return }
  if (currency !== null && value > GOAML_MAX_AMOUNT_MAJOR * minorUnitsPerMajor(currency)) {
    problem(path, `the amount exceeds goAML's maximum of ${GOAML_MAX_AMOUNT_MAJOR} ${currency}`)
  }
}

function isCalendarDate(value: unknown): boolean {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false
  const timeMs = Date.parse(`${value}T00:00:00Z`)
  return Number.isFinite(timeMs) && new Date(timeMs).toISOString().startsWith(value) && timeMs >= GOAML_MIN_TIME_MS
}

function* stringsOf(value: unknown, path: string): Generator<[string, string]> {
  if (typeof value === 'string') yield [path, value]
  else if (Array.isArray(value)) for (const [index, item] of value.entries()) yield* stringsOf(item, `${path}[${index}]`)
  else if (value !== null && typeof value === 'object') for (const [key, item] of Object.entries(value)) yield* stringsOf(item, path ? `${path}.${key}` : key)
}

/** Refuses with the problems listed, one per line, when the draft breaks its rules. */
export function assertDraftValid(draft: StrDraft): void {
  const problems = checkDraft(draft)
  if (problems.length > 0) {
    throw new RiskError('RISK_ERR_REQUEST_INVALID', `STR draft ${draft.draftId} is incomplete: ${problems.map((entry) => `${entry.path}: ${entry.message}`).join('; ')}`,
      { draftId: draft.draftId, caseId: draft.caseId, problemCount: problems.length })
  }
}

/** What an officer may change in a draft; ids, status and approval are not editable. */
export type StrDraftPatch = Partial<Pick<StrDraft, 'subject' | 'transactions' | 'indicators' | 'narrative' | 'action' | 'localCurrency'>>

/**
 * A new draft with the patch applied and the revision raised. Refuses an approved draft
 * (RISK_ERR_CASE_TRANSITION) and, when `expectedRevision` is given, a stale one
 * (RISK_ERR_CASE_CONFLICT). The result may break the draft rules; approval checks them.
 */
export function editDraft(draft: StrDraft, patch: StrDraftPatch, expectedRevision?: number): StrDraft {
  if (draft.status !== 'draft') {
    throw new RiskError('RISK_ERR_CASE_TRANSITION', `STR draft ${draft.draftId} is ${draft.status}; draft a new one to change it`, { draftId: draft.draftId })
  }
  if (expectedRevision !== undefined && expectedRevision !== draft.revision) {
    throw new RiskError('RISK_ERR_CASE_CONFLICT', `STR draft ${draft.draftId} is at revision ${draft.revision}, not ${expectedRevision}; reload it and edit again`, { draftId: draft.draftId })
  }
  const allowed: (keyof StrDraftPatch)[] = ['subject', 'transactions', 'indicators', 'narrative', 'action', 'localCurrency']
  const changes = Object.fromEntries(Object.entries(patch).filter(([key, value]) => allowed.includes(key as keyof StrDraftPatch) && value !== undefined))
  return { ...draft, ...changes, revision: draft.revision + 1 }
}

/** The draft approved by `approvedBy`; refuses one that breaks the draft rules or is not a draft. */
export function approveDraft(draft: StrDraft, approval: { readonly approvedBy: string; readonly approvedAtMs: number }): StrDraft {
  if (draft.status !== 'draft') {
    throw new RiskError('RISK_ERR_CASE_TRANSITION', `STR draft ${draft.draftId} is already ${draft.status}`, { draftId: draft.draftId })
  }
  if (approval.approvedBy.trim() === '') throw new RiskError('RISK_ERR_REQUEST_INVALID', 'approvedBy must name the approving officer')
  assertDraftValid(draft)
  return { ...draft, status: 'approved', approvedBy: approval.approvedBy, approvedAtMs: approval.approvedAtMs }
}
