import { describe, expect, it } from 'vitest'
import { isRiskError } from '../../../core/errors.js'
import type { DepositEvent, TransferEvent, WithdrawalEvent } from '../../../schemas/domain.js'
import { approveDraft, checkDraft, editDraft, toGoamlName } from '../../../sinks/str/draft.js'
import { draftFromCase, strTransactionFromEvent, type NarrativeDecision, type StrCaseInput } from '../../../sinks/str/from-case.js'
import { exportGoaml } from '../../../sinks/str/validate.js'
import { reportingEntity, SCHEMA_PATH, subject, SUBMISSION_TIME_MS } from './fixtures.js'

const T0_MS = Date.UTC(2026, 4, 20, 21, 0, 0)
const instrument = { token: 'card_9f2c', cardBin: '411111', walletAddress: null, holderName: 'J OBrien' }

const deposit = (depositId: string, offsetMs: number, amountMinor: number, currency = 'EUR'): DepositEvent => ({
  kind: 'deposit', eventId: `e-${depositId}`, playerId: 'p-1001', eventTimeMs: T0_MS + offsetMs, depositId, status: 'COMPLETED',
  amountMinor, currency, method: 'CARD', instrument, psp: 'adyen', bonusAmountMinor: null,
} as unknown as DepositEvent)
const withdrawal: WithdrawalEvent = {
  kind: 'withdrawal', eventId: 'e-wd-9', playerId: 'p-1001', eventTimeMs: T0_MS + 30 * 3_600_000, withdrawalId: 'wd-9', type: 'REQUESTED',
  amountMinor: 7_400_00, currency: 'EUR', method: 'EWALLET', instrument: { token: 'ew_77a1', cardBin: null, walletAddress: null, holderName: 'A Third Person' },
}
const transferIn: TransferEvent = {
  kind: 'transfer', eventId: 'e-tr-3', playerId: 'p-2002', eventTimeMs: T0_MS + 3_600_000, transferId: 'tr-3', transferKind: 'P2P',
  toPlayerId: 'p-1001', amountMinor: 250_00, currency: 'EUR', tableId: null,
}

const decision: NarrativeDecision = {
  decisionId: 'wd-9:1', withdrawalId: 'wd-9', outcome: 'DECLINE', amountMinor: 7_400_00, currency: 'EUR', eventTimeMs: withdrawal.eventTimeMs, ruleSetVersion: '2026-05-01.2',
  reasons: [{ code: 'RULE_HIT', detectorId: 'deposit_structuring', detail: '4 deposits within 10% under 2000.00 EUR in 24 h' }, { code: 'MODEL_SCORE_HIGH', detectorId: null, detail: 'score 0.91 over 0.80' }],
  executions: [
    { detectorId: 'deposit_structuring', detectorVersion: 1, status: 'HIT', value: 4, threshold: 3, detail: 'near-threshold deposits' },
    { detectorId: 'pass_through', detectorVersion: 2, status: 'HIT', value: 0.04, threshold: 0.2, detail: null },
    { detectorId: 'withdrawal_velocity', detectorVersion: 1, status: 'NO_HIT', value: 1, threshold: 3, detail: null },
  ],
  model: { modelId: 'risk-gbm', modelVersion: '3', score: 0.9123, cutoff: 0.8, contributions: [{ feature: 'deposits_24h', contribution: 0.31 }, { feature: 'bet_to_deposit_ratio', contribution: -0.052 }] },
  clusterId: 'cluster-77',
}

function caseInput(overrides: Partial<StrCaseInput> = {}): StrCaseInput {
  return {
    caseId: 'case-42',
    draftId: 'str-case-42-1',
    player: {
      playerId: 'p-1001', firstName: 'José', lastName: "O'Brien-Müller", gender: 'male', dateOfBirth: '1990-02-14',
      nationalityCountryCode: 'ES', residenceCountryCode: 'MT', idNumber: 'X1234567Z',
      identifications: subject.identifications, addresses: subject.addresses, phones: subject.phones,
    },
    transactions: [
      strTransactionFromEvent(withdrawal, 'p-1001'),
      strTransactionFromEvent(deposit('dep-2', 7_200_000, 1_990_00), 'p-1001'),
      strTransactionFromEvent(deposit('dep-1', 0, 1_950_00), 'p-1001'),
      strTransactionFromEvent(deposit('dep-jp', 20 * 3_600_000, 300_000, 'JPY'), 'p-1001', { localAmountMinor: 1_830_00, exchangeRate: '0.0061' }),
      strTransactionFromEvent(transferIn, 'p-1001', { counterparty: { playerId: 'p-2002', firstName: 'Anna', lastName: 'Borg', countryCode: 'MT' } }),
    ],
    decisions: [decision],
    typologies: [{ typology: 'multi_account_farm', clusterId: 'cluster-77', summary: '5 accounts sharing 2 devices' }],
    officerNotes: 'Player could not explain the source of funds when asked on 2026-05-23.',
    action: 'Withdrawal wd-9 declined; account restricted',
    ...overrides,
  }
}

describe('draftFromCase', () => {
  it('drafts subject, ordered transactions, indicators and a narrative from the case', () => {
    const draft = draftFromCase(caseInput(), { reportingEntity, localCurrency: 'EUR' })
    expect(draft).toMatchObject({ status: 'draft', revision: 1, draftId: 'str-case-42-1', caseId: 'case-42', localCurrency: 'EUR' })
    expect(draft.subject).toMatchObject({ firstName: 'Jose', lastName: "O'Brien-Muller", originalName: "José O'Brien-Müller" })
    expect(draft.subject.instruments.map((entry) => entry.token)).toEqual(['card_9f2c', 'ew_77a1'])
    expect(draft.transactions.map((entry) => `${entry.kind}:${entry.transactionId}`)).toEqual(['deposit:dep-1', 'transfer_in:tr-3', 'deposit:dep-2', 'deposit:dep-jp', 'withdrawal:wd-9'])
    expect(draft.indicators.map((entry) => entry.code)).toEqual(['CTRGB', 'ML002', 'ARIET', 'LOWBL', 'CSUBS', 'MACMN'])
    expect(checkDraft(draft)).toEqual([])
    const narrative = draft.narrative
    expect(narrative).toContain('Case case-42: player p-1001 (Jose O\'Brien-Muller) of Example Gaming Ltd.')
    expect(narrative).toContain('5 transactions in scope from 2026-05-20T21:00:00 to 2026-05-22T03:00:00 UTC: in 4190.00 EUR, 300000 JPY; out 7400.00 EUR.')
    expect(narrative).toContain('Decision wd-9:1 on withdrawal wd-9 of 7400.00 EUR at 2026-05-22T03:00:00 UTC: DECLINE (rule set 2026-05-01.2).')
    expect(narrative).toContain('RULE_HIT [deposit_structuring]: 4 deposits within 10% under 2000.00 EUR in 24 h')
    expect(narrative).toContain('deposit_structuring@1 value 4 against threshold 3 (near-threshold deposits); pass_through@2 value 0.04 against threshold 0.2')
    expect(narrative).not.toContain('withdrawal_velocity@1')
    expect(narrative).toContain('Model risk-gbm@3 score 0.912 against cut-off 0.800; top contributions: deposits_24h +0.310, bet_to_deposit_ratio -0.052.')
    expect(narrative).toContain('Cluster cluster-77.')
    expect(narrative).toContain('multi_account_farm on cluster cluster-77 (5 accounts sharing 2 devices)')
    expect(narrative).toContain("Officer's notes: Player could not explain")
  })

  it('goes from draft through edit and approval to a validated export', async () => {
    const draft = draftFromCase(caseInput(), { reportingEntity, localCurrency: 'EUR' })
    const edited = editDraft(draft, { narrative: `${draft.narrative}\n\nReviewed by the MLRO.` }, 1)
    expect(edited.revision).toBe(2)
    expect(() => editDraft(edited, { action: null }, 1)).toThrow(expect.objectContaining({ code: 'RISK_ERR_CASE_CONFLICT' }))
    const approved = approveDraft(edited, { approvedBy: 'officer-7', approvedAtMs: SUBMISSION_TIME_MS })
    expect(approved).toMatchObject({ status: 'approved', approvedBy: 'officer-7' })
    expect(() => editDraft(approved, { action: null })).toThrow(expect.objectContaining({ code: 'RISK_ERR_CASE_TRANSITION' }))
    const exported = await exportGoaml(approved, { schemaPath: SCHEMA_PATH, submissionTimeMs: SUBMISSION_TIME_MS })
    expect(exported.xml).toContain('<first_name>Jose</first_name>')
    expect(exported.xml).toContain('Name as registered: José O&apos;Brien-Müller.')
  })

  it('drafts despite gaps in the KYC record and lists what the officer must fill in; approval refuses until then', () => {
    const draft = draftFromCase(caseInput({
      player: { playerId: 'p-1001', firstName: null, lastName: 'Borg', dateOfBirth: null, nationalityCountryCode: null, residenceCountryCode: 'MT' },
      decisions: [], typologies: [],
    }), { reportingEntity, localCurrency: 'EUR' })
    expect(draft.indicators).toEqual([{ code: 'CTRGB', sources: [] }])
    expect(checkDraft(draft).map((problem) => problem.path)).toEqual(['subject.firstName', 'subject.dateOfBirth', 'subject.nationalityCountryCode', 'subject.identifications'])
    try {
      approveDraft(draft, { approvedBy: 'officer-7', approvedAtMs: SUBMISSION_TIME_MS })
      expect.fail('expected a RiskError')
    } catch (error) {
      expect(isRiskError(error, 'RISK_ERR_REQUEST_INVALID')).toBe(true)
      expect((error as Error).message).toContain('subject.dateOfBirth: the subject\'s date of birth must be a date YYYY-MM-DD from 1753 on')
    }
  })

  it('keeps the narrative within goAML\'s 8000 characters by summarising the decisions that do not fit', () => {
    const many = Array.from({ length: 80 }, (_, index) => ({ ...decision, decisionId: `wd-${index}:1`, withdrawalId: `wd-${index}`, eventTimeMs: T0_MS + index }))
    const draft = draftFromCase(caseInput({ decisions: many }), { reportingEntity, localCurrency: 'EUR' })
    expect(draft.narrative.length).toBeLessThanOrEqual(8000)
    expect(draft.narrative).toMatch(/\d+ further decisions are on record in case case-42\./)
    expect(draft.narrative).toContain("Officer's notes:")
  })
})

describe('toGoamlName', () => {
  it.each([['José', 'Jose'], ['Müller', 'Muller'], ['Straße', 'Strasse'], ['Łukasz Øster', 'Lukasz Oster'], ["O'Brien-Smith", "O'Brien-Smith"], ['Zoë  (Jr)', 'Zoe Jr'], ['李', '']])('%s -> %s', (input, expected) => {
    expect(toGoamlName(input)).toBe(expected)
  })
})
