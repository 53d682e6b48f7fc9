/**
 * Our typologies -> goAML report indicator codes.
 *
 * goAML 5.0.2's `report_indicator_type` (in ../shared/data/regulator/goaml-5.0.2/goAMLSchema.xsd)
 * is a CLOSED enumeration of 423 codes (this copy is the UAE FIU's flavour: codes such as EID and
 * CBUAE-internal fund codes show it), not an open string list: a code the schema does not list
 * fails validation. Another FIU's goAML build has another list; swap this table with the schema.
 * docs/str.md carries the same table with each code's wording; a test checks every code below
 * against the schema.
 *
 * Every STR pitboss drafts carries CTRGB ("customer transactions related to gambling/betting");
 * detectors and graph typologies add their own codes. Detectors of responsible gambling
 * (loss_chasing, long_session, night_intensity, self_exclusion_breach) and underage are player-
 * protection findings, not suspicion of laundering, and add nothing.
 *
 * Example: indicatorsFor(['deposit_structuring', 'pass_through'])
 *   -> [{ code: 'CTRGB', sources: [] }, { code: 'ML002', sources: ['deposit_structuring'] },
 *       { code: 'ARIET', sources: ['pass_through'] }, { code: 'LOWBL', sources: ['pass_through'] }]
 */

/** The indicator every casino STR carries. */
export const BASE_INDICATOR = 'CTRGB'

/** Detector id or graph typology id -> goAML indicator codes, most specific first. */
export const INDICATOR_CODES_BY_SOURCE: Readonly<Record<string, readonly string[]>> = Object.freeze({
  // detectors (detectors/index.ts)
  deposit_structuring: ['ML002'], // structures transactions to avoid reporting
  pass_through: ['ARIET', 'LOWBL'], // funds in then straight out; high velocity of funds
  withdrawal_velocity: ['LOWBL', 'FRQDW'], // high velocity; frequent large withdrawals
  unusual_amount: ['WICNB'], // withdrawals not consistent with the holder's normal activity
  edd_threshold: ['TAICE'], // activity inconsistent with expected activity
  closed_loop_breach: ['PTHRD'], // proceeds paid to another instrument than the funding one
  instrument_name_mismatch: ['NTFTP', 'TRDPP'], // third-party accounts; payment by a third party
  rare_method: ['WICNB'],
  chargeback_count: ['SAMIF'], // card / account fraud
  deposit_cancel_cycle: ['UUMTC'], // unusual use of funds transfers
  geo_mismatch: ['WRNIP'], // IP address does not match the registration
  impossible_travel: ['SAMIF', 'WRNIP'], // account takeover
  ip_asn_jump: ['WRNIP'],
  anonymising_network: ['WRNIP', 'CUHTI'],
  new_device_withdrawal: ['SAMIF'], // account takeover cashing out
  device_count: ['CSUBS'], // shared devices across accounts
  kyc_incomplete_withdrawal: ['UNWIL'], // unwilling to provide background information
  bonus_wagering_unmet: ['FRDBG'], // betting and gambling fraud
  bonus_max_bet: ['FRDBG'],
  sanctions_confirmed_match: ['ITLSL'], // on an international sanctions list
  sanctions_potential_match: ['ITLSL'], // an officer files an STR only after confirming the match
  loss_chasing: [],
  long_session: [],
  night_intensity: [],
  self_exclusion_breach: [],
  underage: [],
  // graph typologies (graph/types.ts TYPOLOGIES)
  multi_account_farm: ['CSUBS', 'MACMN'], // common details used to open accounts in different names
  referral_ring: ['CSUBS'],
  bonus_abuse_farm: ['FRDBG', 'CSUBS'],
  table_collusion_opposing_bets: ['FRDBG'],
  table_collusion_chip_flow: ['FRDBG', 'MACMN'],
  fan_in: ['MACMN'], // many accounts funnelling to one
  fan_out: ['MACMN'],
  cycle: ['SCTFS'], // complicated transfers to hide the source
  scatter_gather: ['SCTFS'],
})

export interface StrIndicator {
  /** goAML report indicator code, e.g. ML002. */
  readonly code: string
  /** Detector or typology ids that produced it; empty for the base indicator or one an officer added. */
  readonly sources: readonly string[]
}

/**
 * The indicators for the given detector and typology ids: the base indicator first, then each
 * source's codes in the order the sources are given, each code once with all its sources. An id
 * the table does not know adds nothing (an officer can add codes while editing the draft).
 */
export function indicatorsFor(sourceIds: readonly string[]): readonly StrIndicator[] {
  const sourcesByCode = new Map<string, string[]>([[BASE_INDICATOR, []]])
  for (const sourceId of sourceIds) {
    const codes = Object.hasOwn(INDICATOR_CODES_BY_SOURCE, sourceId) ? INDICATOR_CODES_BY_SOURCE[sourceId] ?? [] : []
    for (const code of codes) {
      const sources = sourcesByCode.get(code) ?? []
      if (!sources.includes(sourceId)) sources.push(sourceId)
      sourcesByCode.set(code, sources)
    }
  }
  return [...sourcesByCode].map(([code, sources]) => ({ code, sources }))
}
