import { describe, expect, it } from 'vitest'
import { deposit as wireDeposit, player, withdrawal as wireWithdrawal } from '../../bench/events.js'
import { instrumentNameMismatch, nameSimilarity, nameTokens, type InstrumentNameMismatchParams } from '../../detectors/instrument-name-mismatch.js'
import { testPipeline } from '../support/pipeline.js'
import { HOUR_MS, alertsOf, at, deposit, lastObservation, paramsFor, profile, runScenario, shippedRuleSetWith, withdrawal } from './scenario.js'

const MT = paramsFor('instrument_name_mismatch', 'MT', 'VERIFIED') as unknown as InstrumentNameMismatchParams
const kyc = profile({ firstName: 'John Michael', lastName: 'Smith' })
const instrument = (holderName: string | null) => ({ token: 'card-1', cardBin: null, walletAddress: null, holderName })
const withdrawTo = (holderName: string | null) => withdrawal(100_00, { withdrawalId: 'w1', instrument: instrument(holderName) })

describe('instrument_name_mismatch: normalising names', () => {
  it('folds case, diacritics and letters NFKD keeps, joins apostrophes, splits on other punctuation, drops ignored tokens', () => {
    expect(nameTokens("Mr Seán O'Brien-Łukasz", ['mr'])).toEqual(['sean', 'obrien', 'lukasz'])
    expect(nameTokens('STRAUß, Æsa Øster', [])).toEqual(['strauss', 'aesa', 'oster'])
    expect(nameTokens('  ', [])).toEqual([])
  })

  it.each([
    { kycName: 'John Michael Smith', holder: 'SMITH JOHN', similarity: 0.8, note: 'order of parts, middle name missing' },
    { kycName: 'John Michael Smith', holder: 'J. M. SMITH', similarity: 1, note: 'initials' },
    { kycName: 'John Michael Smith', holder: 'JANE SMITH', similarity: 0.4, note: 'another first name' },
    { kycName: 'José García López', holder: 'JOSE GARCIA', similarity: 0.8, note: 'diacritics, second surname missing' },
    { kycName: "Seán O'Brien", holder: 'SEAN O BRIEN', similarity: 1, note: 'spacing inside a name' },
    { kycName: 'Łukasz Strauß', holder: 'LUKASZ STRAUSS', similarity: 1, note: 'letters without a decomposition' },
    { kycName: 'Maria del Carmen Rodríguez', holder: 'MARIA RODRIGUEZ', similarity: 0.8, note: 'particle ignored' },
    { kycName: 'John Smith', holder: 'Jon Smith', similarity: 0.875, note: 'a typo' },
    { kycName: 'John Smith', holder: 'Paul Jones', similarity: 0, note: 'someone else' },
  ])('$note: "$kycName" vs "$holder" -> $similarity', ({ kycName, holder, similarity }) => {
    expect(nameSimilarity(kycName, holder, MT)).toBe(similarity)
  })

  it('an initial matches only when acceptInitials is on', () => {
    expect(nameSimilarity('John Smith', 'J SMITH', { ...MT, acceptInitials: false })).toBe(0.5)
  })
})

describe('instrument_name_mismatch: scenarios', () => {
  it('ships minSimilarity 0.75 with titles and particles ignored', () => {
    expect(MT).toMatchObject({ minSimilarity: 0.75, minTokenSimilarity: 0.5, acceptInitials: true })
    expect(MT.ignoredTokens).toEqual(expect.arrayContaining(['mr', 'del', 'van']))
  })

  it.each([
    { minSimilarity: 0.799, hit: false, case: 'similarity above the minimum' },
    { minSimilarity: 0.8, hit: false, case: 'similarity at the minimum' },
    { minSimilarity: 0.801, hit: true, case: 'similarity just below the minimum' },
  ])('$case ($minSimilarity) -> hit $hit', ({ minSimilarity, hit }) => {
    const observation = lastObservation(runScenario(instrumentNameMismatch, { ...MT, minSimilarity }, [at(0, withdrawTo('SMITH JOHN'))], { profile: kyc }))
    expect(observation).toEqual({
      hit, value: 0.8, threshold: minSimilarity, detail: `instrument holder name vs KYC name: similarity 0.8, minimum ${minSimilarity}`,
      evidenceEventIds: ['ev:w1'], windowStartMs: null, windowEndMs: null,
    })
  })

  it('reports "not compared" at withdrawal when either name is unknown', () => {
    expect(lastObservation(runScenario(instrumentNameMismatch, MT, [at(0, withdrawTo(null))], { profile: kyc }))).toMatchObject({ hit: false, value: null, detail: 'not compared: no holder name on the instrument' })
    expect(lastObservation(runScenario(instrumentNameMismatch, MT, [at(0, withdrawTo('JOHN SMITH'))]))).toMatchObject({ hit: false, value: null, detail: 'not compared: no KYC name' })
  })

  it('on deposits, speaks only when a completed deposit mismatches', () => {
    const steps = runScenario(instrumentNameMismatch, MT, [
      at(0, deposit(50_00, { depositId: 'same', instrument: instrument('JOHN SMITH') })),
      at(1, deposit(50_00, { depositId: 'other', instrument: instrument('JANE DOE') })),
      at(2, deposit(50_00, { depositId: 'failed', status: 'FAILED', instrument: instrument('JANE DOE') })),
      at(3, withdrawal(50_00, { withdrawalId: 'w-c', type: 'CANCELLED', instrument: instrument('JANE DOE') })),
    ], { profile: kyc })
    expect(steps.map((step) => step.observation?.hit ?? null)).toEqual([null, true, null, null])
    expect(steps[1]?.observation).toMatchObject({ value: 0, threshold: 0.75, evidenceEventIds: ['ev:other'] })
  })

  it('the NEW tier override (0.8) turns a near match into a hit; a jurisdiction override does the same', () => {
    const near = [at(0, withdrawTo('MARIA FERNANDES'))]
    const options = { profile: profile({ firstName: 'Maria Luisa', lastName: 'Fernandez' }) }
    expect(lastObservation(runScenario(instrumentNameMismatch, MT, near, options))).toMatchObject({ hit: false, value: 0.756 })
    expect(lastObservation(runScenario(instrumentNameMismatch, paramsFor('instrument_name_mismatch', 'MT', 'NEW'), near, options))).toMatchObject({ hit: true, value: 0.756, threshold: 0.8 })
    const document = shippedRuleSetWith(['instrument_name_mismatch'])
    const strictCuracao = { ...document, overrides: [...(document.overrides ?? []), { match: { jurisdiction: 'CW' }, detectors: { instrument_name_mismatch: { params: { minSimilarity: 0.9 } } } }] }
    expect(lastObservation(runScenario(instrumentNameMismatch, paramsFor('instrument_name_mismatch', 'CW', 'VERIFIED', strictCuracao), near, options))).toMatchObject({ hit: true, threshold: 0.9 })
    expect(lastObservation(runScenario(instrumentNameMismatch, paramsFor('instrument_name_mismatch', 'MT', 'VERIFIED', strictCuracao), near, options))?.hit).toBe(false)
  })
})

describe('instrument_name_mismatch end to end', () => {
  it('alerts on a third-party deposit and reviews a payout to someone else, approving the player own card', async () => {
    const pipeline = await testPipeline({ ruleSet: shippedRuleSetWith(['instrument_name_mismatch']) })
    pipeline.send('players', player({ playerId: 'p1', eventTimeMs: 0, jurisdiction: 'MT', firstName: 'Marija', lastName: 'Camilleri' }))
    pipeline.send('deposits', wireDeposit({ playerId: 'p1', depositId: 'd1', eventTimeMs: HOUR_MS, instrument: instrument('JOSEPH BORG') }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w-own', eventTimeMs: 2 * HOUR_MS, instrument: instrument('MARIJA CAMILLERI') }))
    pipeline.send('withdrawals', wireWithdrawal({ playerId: 'p1', withdrawalId: 'w-other', eventTimeMs: 3 * HOUR_MS, instrument: instrument('JOSEPH BORG') }))
    await pipeline.driver.run()
    const decisions = Object.fromEntries((await pipeline.decisions()).map((decision) => [decision.withdrawalId, decision]))
    expect(decisions['w-own']).toMatchObject({ outcome: 'APPROVE', executions: [{ detectorId: 'instrument_name_mismatch', status: 'NO_HIT', value: 1, threshold: 0.75 }] })
    expect(decisions['w-other']).toMatchObject({ outcome: 'REVIEW', actions: ['hold_for_review'], executions: [{ detectorId: 'instrument_name_mismatch', status: 'HIT', value: 0, threshold: 0.75 }] })
    expect((await alertsOf(pipeline)).map((alert) => [alert.alertId, alert.severity])).toEqual([
      ['instrument_name_mismatch@1:ev:d1', 'MEDIUM'],
      ['instrument_name_mismatch@1:ev:w-other', 'MEDIUM'],
    ])
  })
})
