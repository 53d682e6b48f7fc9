/**
 * Drafting an STR from a case: the subject from the player's KYC record, the transactions in
 * scope (domain events mapped by `strTransactionFromEvent`, e.g. from ClickHouse), indicators
 * from the detectors that hit and the cluster's typologies (indicators.ts), and a narrative
 * assembled from the case's decisions (outcome, reasons, detector values against thresholds,
 * model score and top contributions, cluster id).
 *
 * The draft is made even when the KYC record has gaps (no date of birth, no identification):
 * those become empty fields that checkDraft lists for the officer to complete before approval.
 * Names are transliterated to goAML's characters; the registered spelling is kept.
 *
 * Example:
 *   const draft = draftFromCase({ caseId: 'case-42', draftId: 'str-case-42-1', player, transactions, decisions, typologies: [] },
 *     { reportingEntity, localCurrency: 'EUR' })
 *   checkDraft(draft) // -> [] or what the officer still has to fill in
 */
import type { Decision, DepositEvent, TransferEvent, WithdrawalEvent } from '../../schemas/domain.js'
import { formatMinorUnits, isKnownCurrency, minorUnitsToBigInt, type MinorUnits } from './currency.js'
import type { StrAddress, StrCounterparty, StrDraft, StrIdentification, StrInstrument, StrPhone, StrReportingEntity, StrSubject, StrTransaction } from './draft.js'
import { NARRATIVE_MAX_CHARACTERS, toGoamlName } from './draft.js'
import { goamlDateTime } from './goaml.js'
import { indicatorsFor, type StrIndicator } from './indicators.js'

/** What the player's KYC record says; null where it says nothing. */
export interface StrCasePlayer {
  readonly playerId: string
  readonly firstName: string | null
  readonly middleName?: string | null
  readonly lastName: string | null
  readonly gender?: 'female' | 'male' | null
  /** YYYY-MM-DD. */
  readonly dateOfBirth: string | null
  readonly nationalityCountryCode: string | null
  readonly residenceCountryCode: string | null
  readonly idNumber?: string | null
  readonly identifications?: readonly StrIdentification[]
  readonly addresses?: readonly StrAddress[]
  readonly phones?: readonly StrPhone[]
  readonly emails?: readonly string[]
  readonly occupation?: string | null
  readonly taxRegistered?: boolean | null
}

/** The parts of a decision the narrative tells. */
export type NarrativeDecision = Pick<Decision, 'decisionId' | 'withdrawalId' | 'outcome' | 'reasons' | 'amountMinor' | 'currency' | 'eventTimeMs' | 'ruleSetVersion' | 'executions' | 'model' | 'clusterId'>

/** A typology the graph raised on the player's cluster. */
export interface NarrativeTypology {
  readonly typology: string
  readonly clusterId: string | null
  readonly summary: string | null
}

export interface StrCaseInput {
  readonly caseId: string
  /** Chosen by the caller (unique per filing, e.g. `str-${caseId}-${n}`); also the report's entity_reference. */
  readonly draftId: string
  readonly player: StrCasePlayer
  readonly transactions: readonly StrTransaction[]
  readonly decisions: readonly NarrativeDecision[]
  readonly typologies: readonly NarrativeTypology[]
  /** The officer's own words, appended to the narrative. */
  readonly officerNotes?: string | null
  /** What the operator did, e.g. 'Withdrawal wd-9 declined; account restricted'. */
  readonly action?: string | null
}

export interface StrDraftOptions {
  readonly reportingEntity: StrReportingEntity
  /** ISO 4217 code of the report's amounts (goAML currency_code_local). */
  readonly localCurrency: string
}

/** A new draft (revision 1, status draft) for the case. */
export function draftFromCase(input: StrCaseInput, options: StrDraftOptions): StrDraft {
  const transactions = [...input.transactions].sort((left, right) => left.eventTimeMs - right.eventTimeMs || compareText(left.transactionId, right.transactionId))
  const subject = subjectFromPlayer(input.player, transactions)
  const hitDetectors = input.decisions.flatMap((decision) => decision.executions.filter((execution) => execution.status === 'HIT').map((execution) => execution.detectorId))
  const indicators = indicatorsFor(unique([...hitDetectors, ...input.typologies.map((entry) => entry.typology)]))
  const draft: StrDraft = {
    draftId: input.draftId,
    caseId: input.caseId,
    revision: 1,
    status: 'draft',
    reportingEntity: options.reportingEntity,
    localCurrency: options.localCurrency,
    subject,
    transactions,
    indicators,
    narrative: '',
    action: input.action ?? null,
    approvedBy: null,
    approvedAtMs: null,
  }
  return { ...draft, narrative: buildNarrative(draft, input) }
}

function subjectFromPlayer(player: StrCasePlayer, transactions: readonly StrTransaction[]): StrSubject {
  const registeredName = [player.firstName, player.middleName, player.lastName].filter(Boolean).join(' ')
  const firstName = toGoamlName(player.firstName ?? '')
  const middleName = player.middleName ? toGoamlName(player.middleName) : null
  const lastName = toGoamlName(player.lastName ?? '')
  const transliterated = [firstName, middleName, lastName].filter(Boolean).join(' ')
  const instruments = new Map<string, StrInstrument>()
  for (const transaction of transactions) {
    if (transaction.instrument && !instruments.has(transaction.instrument.token)) instruments.set(transaction.instrument.token, transaction.instrument)
  }
  return {
    playerId: player.playerId,
    firstName,
    middleName: middleName || null,
    lastName,
    originalName: registeredName !== transliterated ? registeredName : null,
    gender: player.gender ?? null,
    dateOfBirth: player.dateOfBirth ?? '',
    nationalityCountryCode: player.nationalityCountryCode ?? '',
    residenceCountryCode: player.residenceCountryCode ?? '',
    idNumber: player.idNumber ?? null,
    identifications: player.identifications ?? [],
    addresses: player.addresses ?? [],
    phones: player.phones ?? [],
    emails: player.emails ?? [],
    occupation: player.occupation ?? null,
    taxRegistered: player.taxRegistered ?? null,
    instruments: [...instruments.values()],
  }
}

export interface EventTransactionOptions {
  /** The amount in the report's local currency when the event's currency is another one. */
  readonly localAmountMinor?: MinorUnits | null
  readonly exchangeRate?: string | null
  /** The other player of a transfer. */
  readonly counterparty?: StrCounterparty | null
  readonly description?: string | null
}

/**
 * A deposit, withdrawal request or transfer as an STR transaction of `subjectPlayerId`'s. A
 * transfer is transfer_out when the subject sent it, transfer_in when they received it.
 */
export function strTransactionFromEvent(event: DepositEvent | WithdrawalEvent | TransferEvent, subjectPlayerId: string, options: EventTransactionOptions = {}): StrTransaction {
  const common = {
    eventTimeMs: event.eventTimeMs,
    amountMinor: event.amountMinor,
    currency: event.currency,
    localAmountMinor: options.localAmountMinor ?? null,
    exchangeRate: options.exchangeRate ?? null,
    description: options.description ?? null,
  }
  switch (event.kind) {
    case 'deposit':
      return { ...common, transactionId: event.depositId, kind: 'deposit', status: event.status, instrument: instrumentOf(event.method, event.instrument, event.psp), counterparty: null }
    case 'withdrawal':
      return { ...common, transactionId: event.withdrawalId, kind: 'withdrawal', status: event.type, instrument: instrumentOf(event.method, event.instrument, null), counterparty: null }
    case 'transfer':
      return {
        ...common, transactionId: event.transferId, kind: event.playerId === subjectPlayerId ? 'transfer_out' : 'transfer_in',
        status: event.transferKind, instrument: null, counterparty: options.counterparty ?? null,
      }
  }
}

function instrumentOf(method: string, instrument: DepositEvent['instrument'], psp: string | null): StrInstrument {
  return { method, token: instrument.token, cardBin: instrument.cardBin, walletAddress: instrument.walletAddress, holderName: instrument.holderName, psp }
}

/**
 * The narrative: who and what, the totals, the indicators, each decision (outcome, reasons,
 * detectors that hit with value against threshold, model score and top contributions, cluster),
 * the cluster's typologies and the officer's notes. Kept under goAML's 8000 characters by
 * summarising the decisions that do not fit.
 */
export function buildNarrative(draft: StrDraft, input: Pick<StrCaseInput, 'caseId' | 'decisions' | 'typologies' | 'officerNotes'>): string {
  const subject = draft.subject
  const name = [subject.firstName, subject.middleName, subject.lastName].filter(Boolean).join(' ') || 'name unknown'
  const head: string[] = [`Case ${input.caseId}: player ${subject.playerId} (${name}) of ${draft.reportingEntity.name}.`]
  if (draft.transactions.length > 0) {
    const first = draft.transactions[0] as StrTransaction
    const last = draft.transactions[draft.transactions.length - 1] as StrTransaction
    head.push(`${draft.transactions.length} transactions in scope from ${goamlDateTime(first.eventTimeMs)} to ${goamlDateTime(last.eventTimeMs)} UTC: ${totals(draft.transactions)}.`)
  }
  head.push(`Indicators: ${draft.indicators.map(describeIndicator).join(', ')}.`)

  const tail: string[] = []
  if (input.typologies.length > 0) {
    tail.push(`Link-graph typologies: ${input.typologies.map((entry) => `${entry.typology}${entry.clusterId ? ` on cluster ${entry.clusterId}` : ''}${entry.summary ? ` (${entry.summary})` : ''}`).join('; ')}.`)
  }
  if (input.officerNotes) tail.push(`Officer's notes: ${input.officerNotes}`)

  const decisions = [...input.decisions].sort((left, right) => left.eventTimeMs - right.eventTimeMs || compareText(left.decisionId, right.decisionId))
  const sections = [head.join(' ')]
  const reserved = tail.join('\n\n').length + 200
  let used = sections[0]?.length ?? 0
  let told = 0
  for (const decision of decisions) {
    const section = describeDecision(decision)
    if (used + section.length + 2 > NARRATIVE_MAX_CHARACTERS - reserved) break
    sections.push(section)
    used += section.length + 2
    told += 1
  }
  if (told < decisions.length) sections.push(`${decisions.length - told} further decisions are on record in case ${input.caseId}.`)
  sections.push(...tail)
  const narrative = sections.join('\n\n')
  return narrative.length <= NARRATIVE_MAX_CHARACTERS ? narrative : `${narrative.slice(0, NARRATIVE_MAX_CHARACTERS - 1)}…`
}

function describeIndicator(indicator: StrIndicator): string {
  return indicator.sources.length > 0 ? `${indicator.code} (${indicator.sources.join(', ')})` : indicator.code
}

function describeDecision(decision: NarrativeDecision): string {
  const amount = isKnownCurrency(decision.currency) ? `${formatMinorUnits(decision.amountMinor, decision.currency)} ${decision.currency}` : `${decision.amountMinor} minor units of ${decision.currency}`
  const lines = [`Decision ${decision.decisionId} on withdrawal ${decision.withdrawalId} of ${amount} at ${goamlDateTime(decision.eventTimeMs)} UTC: ${decision.outcome} (rule set ${decision.ruleSetVersion}).`]
  if (decision.reasons.length > 0) {
    lines.push(`Reasons: ${decision.reasons.map((reason) => `${reason.code}${reason.detectorId ? ` [${reason.detectorId}]` : ''}: ${reason.detail}`).join('; ')}.`)
  }
  const hits = decision.executions.filter((execution) => execution.status === 'HIT')
  if (hits.length > 0) {
    lines.push(`Detectors that hit: ${hits.map((execution) => {
      const measured = execution.value !== null ? ` value ${execution.value}${execution.threshold !== null ? ` against threshold ${execution.threshold}` : ''}` : ''
      return `${execution.detectorId}@${execution.detectorVersion}${measured}${execution.detail ? ` (${execution.detail})` : ''}`
    }).join('; ')}.`)
  }
  if (decision.model) {
    const contributions = decision.model.contributions.slice(0, 5)
      .map((entry) => `${entry.feature} ${entry.contribution >= 0 ? '+' : ''}${entry.contribution.toFixed(3)}`).join(', ')
    // The cut-off arrived with decision schema v2; older records carry none.
    const model = decision.model
    const cutoff = 'cutoff' in model && typeof model.cutoff === 'number' ? ` against cut-off ${model.cutoff.toFixed(3)}` : ''
    lines.push(`Model ${model.modelId}@${model.modelVersion} score ${model.score.toFixed(3)}${cutoff}${contributions ? `; top contributions: ${contributions}` : ''}.`)
  }
  if (decision.clusterId) lines.push(`Cluster ${decision.clusterId}.`)
  return lines.join(' ')
}

/** 'in 1234.50 EUR, 15000 JPY; out 900.00 EUR': sums by direction and currency, exact. */
function totals(transactions: readonly StrTransaction[]): string {
  const sums = { in: new Map<string, bigint>(), out: new Map<string, bigint>() }
  for (const transaction of transactions) {
    const amount = minorUnitsToBigInt(transaction.amountMinor)
    if (amount === null || !isKnownCurrency(transaction.currency)) continue
    const direction = transaction.kind === 'deposit' || transaction.kind === 'transfer_in' ? sums.in : sums.out
    direction.set(transaction.currency, (direction.get(transaction.currency) ?? 0n) + amount)
  }
  const describe = (label: string, byCurrency: Map<string, bigint>): string | null => byCurrency.size === 0 ? null
    : `${label} ${[...byCurrency].sort(([left], [right]) => compareText(left, right)).map(([currency, amount]) => `${formatMinorUnits(amount, currency)} ${currency}`).join(', ')}`
  return [describe('in', sums.in), describe('out', sums.out)].filter(Boolean).join('; ')
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)]
}

/** Code-unit order, the same on every machine (localeCompare is not). */
function compareText(left: string, right: string): number {
  return left < right ? -1 : left > right ? 1 : 0
}
