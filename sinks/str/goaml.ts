/**
 * STR draft -> goAML 5.0.2 report XML (the schema is ../shared/data/regulator/goaml-5.0.2/goAMLSchema.xsd;
 * element order below follows its sequences). Pure and deterministic: the same draft and
 * submission time give the same bytes; nothing here reads the clock.
 *
 * How an online casino's money movements map onto goAML's from/to parties (the player is the
 * operator's client, `my_client`; the operator's own side is an entity that is not its client):
 * | draft kind   | from                                     | to                                        | transmode      |
 * | deposit      | t_from_my_client / from_person = player  | t_to / to_entity = operator (FRACC)       | by method      |
 * | withdrawal   | t_from / from_entity = operator (FRACC)  | t_to_my_client / to_person = player       | by method      |
 * | transfer_out | t_from_my_client / from_person = player  | t_to / to_person = other player           | INTRN          |
 * | transfer_in  | t_from / from_person = other player      | t_to_my_client / to_person = player       | INTRN          |
 * The player's instrument (a token, BIN, wallet, holder name, PSP) goes into the funds comment.
 * A transaction in another currency than the report's carries its local equivalent in
 * amount_local and the original amount in *_foreign_currency on the player's side.
 * Counterparty players are rendered as not-my-client persons: the report carries full KYC only
 * for the subject.
 *
 * Example:
 *   const xml = renderGoaml(approvedDraft, { submissionTimeMs: Date.UTC(2026, 5, 4, 10) })
 *   // <report> ... <report_code>STR</report_code> ... <amount_local>1234.56</amount_local> ...
 */
import { formatMinorUnits } from './currency.js'
import type { StrAddress, StrContactType, StrCounterparty, StrDraft, StrIdentification, StrInstrument, StrPhone, StrReportingEntity, StrSubject, StrTransaction } from './draft.js'
import { element, leaf, serializeXml, type XmlNode } from './xml.js'

export interface GoamlRenderOptions {
  /** When the report is submitted (epoch ms, rendered in UTC); an input so output is deterministic. */
  readonly submissionTimeMs: number
}

/** Payment method -> goAML funds_type of the player's side. */
export const FUNDS_CODE_BY_METHOD: Readonly<Record<string, string>> = Object.freeze({
  CARD: 'CRTCR', BANK_TRANSFER: 'ELCFT', EWALLET: 'ELCFT', CRYPTO: 'CRPTC', PREPAID: 'ELCFT', OTHER: 'B',
})
/** Payment method -> goAML conduction_type (transmode_code). */
export const TRANSMODE_CODE_BY_METHOD: Readonly<Record<string, string>> = Object.freeze({
  CARD: 'CCD', BANK_TRANSFER: 'ELCFT', EWALLET: 'ELCFT', CRYPTO: 'DAWLT', PREPAID: 'PPCD', OTHER: '-',
})
/** Funds held in the player's account at the operator (goAML 'Account'). */
const GAMING_ACCOUNT_FUNDS_CODE = 'FRACC'
const INTERNAL_TRANSFER_TRANSMODE = 'INTRN'
/** One character the schema requires; 'E' (electronic), as in the FIU's example report. */
const TRANSMODE_COMMENT = 'E'
const CONTACT_CODES: Readonly<Record<StrContactType, string>> = { business: 'BU', private: 'PRIVT', residence: 'RES', registered: 'REG' }
const IDENTIFICATION_CODES: Readonly<Record<StrIdentification['type'], string>> = { passport: 'PASSP', driving_licence: 'DRIVL', national_id: '-', other: '-' }

/** The goAML report for the draft, as an XML document. Assumes checkDraft passed; the schema has the last word. */
export function renderGoaml(draft: StrDraft, options: GoamlRenderOptions): string {
  const entity = draft.reportingEntity
  const report = element('report',
    leaf('rentity_id', entity.entityId),
    leaf('rentity_branch', entity.branch),
    leaf('submission_code', 'E'),
    leaf('report_code', 'STR'),
    leaf('entity_reference', draft.draftId),
    leaf('submission_date', goamlDateTime(options.submissionTimeMs)),
    leaf('currency_code_local', draft.localCurrency),
    reportingPerson(entity),
    entity.address ? address('location', entity.address) : null,
    leaf('reason', draft.narrative),
    leaf('action', draft.action),
    draft.transactions.map((transaction) => transactionElement(draft, transaction)),
    element('report_indicators', draft.indicators.map((indicator) => leaf('indicator', indicator.code))),
  )
  return serializeXml(report)
}

/** goAML's sql_date from epoch milliseconds: UTC, seconds precision, no zone suffix. */
export function goamlDateTime(timeMs: number): string {
  return new Date(timeMs).toISOString().slice(0, 19)
}

function goamlDate(calendarDate: string): string {
  return `${calendarDate}T00:00:00`
}

function reportingPerson(entity: StrReportingEntity): XmlNode {
  const person = entity.reportingPerson
  return element('reporting_person',
    leaf('first_name', person.firstName),
    leaf('last_name', person.lastName),
    person.phone ? element('phones', phone(person.phone)) : null,
    leaf('email', person.email),
    leaf('occupation', person.occupation),
  )
}

function address(name: string, value: StrAddress): XmlNode {
  return element(name,
    leaf('address_type', CONTACT_CODES[value.type] ?? '-'),
    leaf('address', value.line),
    leaf('city', value.city),
    leaf('zip', value.postalCode),
    leaf('country_code', value.countryCode),
    leaf('state', value.state),
  )
}

function phone(value: StrPhone): XmlNode {
  return element('phone',
    leaf('tph_contact_type', CONTACT_CODES[value.type] ?? '-'),
    leaf('tph_communication_type', value.communication === 'mobile' ? 'M' : 'L'),
    leaf('tph_country_prefix', value.countryPrefix),
    leaf('tph_number', value.number),
  )
}

function identification(value: StrIdentification): XmlNode {
  return element('identification',
    leaf('type', IDENTIFICATION_CODES[value.type] ?? '-'),
    leaf('number', value.number),
    leaf('issue_date', goamlDate(value.issueDate)),
    leaf('expiry_date', goamlDate(value.expiryDate)),
    leaf('issued_by', value.issuedBy),
    leaf('issue_country', value.issueCountryCode),
    value.type === 'national_id' ? leaf('comments', 'National identity card') : null,
  )
}

/** The player as the operator's client (t_person_my_client). */
function subjectPerson(name: string, draft: StrDraft): XmlNode {
  const subject = draft.subject
  return element(name,
    leaf('gender', subject.gender === 'female' ? 'F' : subject.gender === 'male' ? 'M' : '-'),
    leaf('first_name', subject.firstName),
    leaf('middle_name', subject.middleName),
    leaf('last_name', subject.lastName),
    leaf('birthdate', goamlDate(subject.dateOfBirth)),
    leaf('id_number', subject.idNumber ?? ''),
    leaf('nationality1', subject.nationalityCountryCode),
    leaf('residence', subject.residenceCountryCode),
    element('phones', subject.phones.map(phone)),
    subject.addresses.length > 0 ? element('addresses', subject.addresses.map((value) => address('address', value))) : null,
    subject.emails.slice(0, 5).map((email) => leaf('email', email)),
    leaf('occupation', subject.occupation),
    subject.identifications.map(identification),
    leaf('tax_reg_number', subject.taxRegistered === null ? '-' : subject.taxRegistered ? 'Y' : 'N'),
    leaf('comments', clip(subjectComments(draft.reportingEntity, subject), 8000)),
  )
}

function subjectComments(entity: StrReportingEntity, subject: StrSubject): string {
  const lines = [`Player id ${subject.playerId} at ${entity.name}.`]
  if (subject.originalName) lines.push(`Name as registered: ${subject.originalName}.`)
  if (subject.instruments.length > 0) lines.push(`Payment instruments: ${subject.instruments.map(describeInstrument).join('; ')}.`)
  return lines.join(' ')
}

/** Another player (t_person, not rendered as a client: see the module comment). */
function counterpartyPerson(name: string, counterparty: StrCounterparty): XmlNode {
  return element(name,
    leaf('first_name', counterparty.firstName),
    leaf('last_name', counterparty.lastName),
    leaf('residence', counterparty.countryCode),
    leaf('comments', `Player id ${counterparty.playerId} at the reporting entity.`),
  )
}

/** The operator's own side (t_entity). */
function operatorEntity(name: string, entity: StrReportingEntity): XmlNode {
  return element(name,
    leaf('name', entity.name),
    entity.address ? element('addresses', address('address', entity.address)) : null,
    leaf('incorporation_country_code', entity.countryCode),
  )
}

function describeInstrument(instrument: StrInstrument): string {
  const parts = [instrument.method, `token ${instrument.token}`]
  if (instrument.cardBin) parts.push(`BIN ${instrument.cardBin}`)
  if (instrument.walletAddress) parts.push(`wallet ${instrument.walletAddress}`)
  if (instrument.holderName) parts.push(`holder '${instrument.holderName}'`)
  if (instrument.psp) parts.push(`via ${instrument.psp}`)
  return parts.join(' ')
}

function describeTransaction(transaction: StrTransaction): string {
  const method = transaction.instrument ? ` by ${transaction.instrument.method}` : ''
  const status = transaction.status ? `, status ${transaction.status}` : ''
  switch (transaction.kind) {
    case 'deposit': return `Deposit to the player's gaming account${method}${status}`
    case 'withdrawal': return `Withdrawal from the player's gaming account${method}${status}`
    case 'transfer_out': return `Transfer to player ${transaction.counterparty?.playerId ?? 'unknown'}${status}`
    case 'transfer_in': return `Transfer from player ${transaction.counterparty?.playerId ?? 'unknown'}${status}`
  }
}

function transactionElement(draft: StrDraft, transaction: StrTransaction): XmlNode {
  const foreign = transaction.currency !== draft.localCurrency
  const localAmount = foreign ? transaction.localAmountMinor ?? 0 : transaction.amountMinor
  const foreignCurrency = (prefix: 'from' | 'to'): XmlNode | null => foreign
    ? element(`${prefix}_foreign_currency`,
      leaf('foreign_currency_code', transaction.currency),
      leaf('foreign_amount', formatMinorUnits(transaction.amountMinor, transaction.currency)),
      leaf('foreign_exchange_rate', transaction.exchangeRate))
    : null
  const method = transaction.instrument?.method ?? 'OTHER'
  const playerFunds = FUNDS_CODE_BY_METHOD[method] ?? 'B'
  const fundsComment = (prefix: 'from' | 'to'): XmlNode | null =>
    transaction.instrument ? leaf(`${prefix}_funds_comment`, clip(describeInstrument(transaction.instrument), 255)) : null

  let from: XmlNode
  let to: XmlNode
  switch (transaction.kind) {
    case 'deposit':
      from = element('t_from_my_client', leaf('from_funds_code', playerFunds), fundsComment('from'), foreignCurrency('from'),
        subjectPerson('from_person', draft), leaf('from_country', draft.subject.residenceCountryCode))
      to = element('t_to', leaf('to_funds_code', GAMING_ACCOUNT_FUNDS_CODE),
        operatorEntity('to_entity', draft.reportingEntity), leaf('to_country', draft.reportingEntity.countryCode))
      break
    case 'withdrawal':
      from = element('t_from', leaf('from_funds_code', GAMING_ACCOUNT_FUNDS_CODE),
        operatorEntity('from_entity', draft.reportingEntity), leaf('from_country', draft.reportingEntity.countryCode))
      to = element('t_to_my_client', leaf('to_funds_code', playerFunds), fundsComment('to'), foreignCurrency('to'),
        subjectPerson('to_person', draft), leaf('to_country', draft.subject.residenceCountryCode))
      break
    case 'transfer_out': {
      const counterparty = transaction.counterparty as StrCounterparty
      from = element('t_from_my_client', leaf('from_funds_code', GAMING_ACCOUNT_FUNDS_CODE), foreignCurrency('from'),
        subjectPerson('from_person', draft), leaf('from_country', draft.subject.residenceCountryCode))
      to = element('t_to', leaf('to_funds_code', GAMING_ACCOUNT_FUNDS_CODE),
        counterpartyPerson('to_person', counterparty), leaf('to_country', counterparty.countryCode))
      break
    }
    case 'transfer_in': {
      const counterparty = transaction.counterparty as StrCounterparty
      from = element('t_from', leaf('from_funds_code', GAMING_ACCOUNT_FUNDS_CODE), foreignCurrency('from'),
        counterpartyPerson('from_person', counterparty), leaf('from_country', counterparty.countryCode))
      to = element('t_to_my_client', leaf('to_funds_code', GAMING_ACCOUNT_FUNDS_CODE),
        subjectPerson('to_person', draft), leaf('to_country', draft.subject.residenceCountryCode))
      break
    }
  }
  const transfer = transaction.kind === 'transfer_out' || transaction.kind === 'transfer_in'
  return element('transaction',
    leaf('transactionnumber', transaction.transactionId),
    leaf('transaction_location', clip(draft.reportingEntity.transactionLocation, 255)),
    leaf('transaction_description', clip(transaction.description ?? describeTransaction(transaction), 8000)),
    leaf('date_transaction', goamlDateTime(transaction.eventTimeMs)),
    leaf('transmode_code', transfer ? INTERNAL_TRANSFER_TRANSMODE : TRANSMODE_CODE_BY_METHOD[method] ?? '-'),
    leaf('transmode_comment', TRANSMODE_COMMENT),
    leaf('amount_local', formatMinorUnits(localAmount, draft.localCurrency)),
    from,
    to,
  )
}

/** At most `maxCharacters` characters (code points, as XSD's maxLength counts), ending in '…' when cut. */
function clip(text: string, maxCharacters: number): string {
  const characters = Array.from(text)
  return characters.length <= maxCharacters ? text : `${characters.slice(0, maxCharacters - 1).join('')}…`
}
