/**
 * Scoring one query name against one list name, and the date-of-birth and country evidence.
 * Pure functions: no clock, no randomness, no I/O. The index (index.ts) decides which list names
 * are worth scoring; this file decides how alike two names are and says why.
 *
 * Name score, 0..1:
 *   1. Every query token is compared with every list token (exact, Jaro-Winkler, phonetic key,
 *      initial); pairs below MIN_TOKEN_SIMILARITY count as no match.
 *   2. Tokens are aligned greedily, best pair first, each token used once — so word order does
 *      not matter ('HUSSEIN AL-TIKRITI, Saddam' ~ 'Saddam Hussein al-Tikriti').
 *   3. Score = Σ similarity·weight over aligned pairs / (Σ weight of aligned pairs
 *      + QUERY_MISS_WEIGHT·Σ weight of unaligned query tokens + LIST_MISS_WEIGHT·Σ weight of unaligned list tokens).
 *      A token's weight is its rarity in the lists (inverse document frequency), so 'mohammed'
 *      and 'ali' count for little and 'tikriti' for much: a common-name query that only shares
 *      frequent tokens with a longer list name stays low. A missing list token costs less than
 *      an extra query token because lists carry more name parts than people type.
 *      A missing patronymic (-ovich, -ovna, ogly…) costs a quarter of a name part.
 *   4. Weak aliases score NAME_KIND_FACTOR lower.
 * Evidence, added to the name score: a date of birth that agrees (+) or contradicts (−) the
 * list's; a country in (+) or out of (−) the entry's nationality, citizenship and address countries.
 *
 * Example:
 *   compareNames(prepareTokens(['saddam', 'hussein']), prepareTokens(['hussein', 'tikriti', 'saddam']), () => 1)
 *   // → { score: 0.8, pairs: [saddam=saddam 1, hussein=hussein 1], unmatchedQuery: [], unmatchedCandidate: ['tikriti'] }
 */
import { jaroWinkler } from './jaro-winkler.js'
import { phoneticKey } from './phonetic.js'
import type { DateOfBirth, NameKind } from './types.js'

/** Token pairs less alike than this are not a match at all (partial credit below it is noise). */
export const MIN_TOKEN_SIMILARITY = 0.8
/** Jaro-Winkler j counts as 1 - JARO_WINKLER_STRETCH·(1 - j): 0.95 → 0.9, 0.9 → 0.8, 0.8 → 0.6. */
export const JARO_WINKLER_STRETCH = 2
/** Similarity given to two tokens with the same phonetic key when Jaro-Winkler says less. */
export const PHONETIC_SIMILARITY = 0.88
/** Similarity of an initial ('j') to a token it starts ('john'). */
export const INITIAL_SIMILARITY = 0.8
export const QUERY_MISS_WEIGHT = 0.6
export const LIST_MISS_WEIGHT = 0.3
export const NAME_KIND_FACTOR: Readonly<Record<NameKind, number>> = { primary: 1, alias: 1, 'weak-alias': 0.8 }

export const EVIDENCE = {
  dateOfBirthExact: 0.06,
  dateOfBirthYear: 0.03,
  dateOfBirthContradicts: -0.15,
  countryMatch: 0.02,
  countryMismatch: -0.03,
} as const

export interface PreparedTokens {
  readonly tokens: readonly string[]
  readonly keys: readonly string[]
}

export function prepareTokens(tokens: readonly string[]): PreparedTokens {
  return { tokens, keys: tokens.map((token) => phoneticKey(token)) }
}

export type TokenMethod = 'exact' | 'jaro-winkler' | 'phonetic' | 'initial'

export interface TokenPair {
  readonly queryToken: string
  readonly listToken: string
  readonly similarity: number
  readonly method: TokenMethod
}

export interface NameComparison {
  readonly score: number
  readonly pairs: readonly TokenPair[]
  readonly unmatchedQuery: readonly string[]
  readonly unmatchedList: readonly string[]
}

export interface TokenComparison { readonly similarity: number; readonly method: TokenMethod }

export function compareTokens(queryToken: string, queryKey: string, listToken: string, listKey: string): TokenComparison {
  if (queryToken === listToken) return { similarity: 1, method: 'exact' }
  if (queryToken.length === 1 || listToken.length === 1) {
    return queryToken[0] === listToken[0] ? { similarity: INITIAL_SIMILARITY, method: 'initial' } : { similarity: 0, method: 'initial' }
  }
  // Jaro is at most (2 + shorter/longer) / 3 and Winkler's boost adds at most 0.4 of the rest:
  // skip the full computation when even that cannot reach MIN_TOKEN_SIMILARITY, unless the keys agree.
  const lengthRatio = Math.min(queryToken.length, listToken.length) / Math.max(queryToken.length, listToken.length)
  const jaroBound = (2 + lengthRatio) / 3
  if (jaroBound + 0.4 * (1 - jaroBound) < MIN_TOKEN_SIMILARITY && queryKey !== listKey) return NO_MATCH
  const similarity = jaroWinkler(queryToken, listToken)
  // Keys of one or two sounds collide too easily ('doku' / 'teaco' are both 'tk') to be trusted alone.
  if (similarity < PHONETIC_SIMILARITY && queryKey === listKey && queryKey.length >= 3) {
    return { similarity: PHONETIC_SIMILARITY, method: 'phonetic' }
  }
  // Stretch the useful band [MIN_TOKEN_SIMILARITY, 1] of Jaro-Winkler: two different common names
  // (smirnov / mironov, 0.86) are already that close, so only near-identical tokens earn near-full credit.
  const credit = 1 - JARO_WINKLER_STRETCH * (1 - similarity)
  return { similarity: similarity >= MIN_TOKEN_SIMILARITY ? credit : 0, method: 'jaro-winkler' }
}

/**
 * Patronymics and Turkic 'son of / daughter of' forms: one side often omits them (OFAC writes
 * 'UMAROV, Doku', the UN 'DOKU KHAMATOVICH UMAROV'), so a missing one costs PATRONYMIC_MISS_FACTOR of a name part.
 */
const PATRONYMIC = /(?:ovich|evich|ovych|evych|ovna|evna|ivna|ogly|oglu|kyzy|qizi)$/
export const PATRONYMIC_MISS_FACTOR = 0.25

function missWeight(token: string, weightOf: (token: string) => number): number {
  return PATRONYMIC.test(token) ? PATRONYMIC_MISS_FACTOR * weightOf(token) : weightOf(token)
}

const NO_MATCH: TokenComparison = { similarity: 0, method: 'jaro-winkler' }

type CompareTokens = (queryIndex: number, listToken: string, listKey: string) => TokenComparison

interface Candidate { queryIndex: number; listIndex: number; similarity: number; method: TokenMethod }

/**
 * `compare` lets the index reuse token comparisons across the candidates of one query (list
 * tokens repeat a lot); by default each pair is compared afresh.
 */
export function compareNames(
  query: PreparedTokens,
  list: PreparedTokens,
  weightOf: (token: string) => number,
  compare: CompareTokens = (queryIndex, listToken, listKey) => compareTokens(query.tokens[queryIndex] as string, query.keys[queryIndex] as string, listToken, listKey),
): NameComparison {
  const candidates: Candidate[] = []
  for (let queryIndex = 0; queryIndex < query.tokens.length; queryIndex += 1) {
    for (let listIndex = 0; listIndex < list.tokens.length; listIndex += 1) {
      const { similarity, method } = compare(queryIndex, list.tokens[listIndex] as string, list.keys[listIndex] as string)
      if (similarity > 0) candidates.push({ queryIndex, listIndex, similarity, method })
    }
  }
  // Greedy alignment, best pair first (ties: the earlier tokens), each token used once.
  candidates.sort((left, right) => right.similarity - left.similarity || left.queryIndex - right.queryIndex || left.listIndex - right.listIndex)
  const queryUsed = new Array<boolean>(query.tokens.length).fill(false)
  const listUsed = new Array<boolean>(list.tokens.length).fill(false)
  const pairs: TokenPair[] = []
  let matchedWeight = 0
  let weightedSimilarity = 0
  for (const candidate of candidates) {
    if (queryUsed[candidate.queryIndex] || listUsed[candidate.listIndex]) continue
    queryUsed[candidate.queryIndex] = true
    listUsed[candidate.listIndex] = true
    const queryToken = query.tokens[candidate.queryIndex] as string
    const listToken = list.tokens[candidate.listIndex] as string
    // The list token's rarity: a typo in the query must not make the token look rare.
    const weight = weightOf(listToken)
    matchedWeight += weight
    weightedSimilarity += weight * candidate.similarity
    pairs.push({ queryToken, listToken, similarity: candidate.similarity, method: candidate.method })
  }
  const unmatchedQuery = query.tokens.filter((_, index) => !queryUsed[index])
  const unmatchedList = list.tokens.filter((_, index) => !listUsed[index])
  let missing = 0
  for (const token of unmatchedQuery) missing += QUERY_MISS_WEIGHT * missWeight(token, weightOf)
  for (const token of unmatchedList) missing += LIST_MISS_WEIGHT * missWeight(token, weightOf)
  const denominator = matchedWeight + missing
  return { score: denominator === 0 ? 0 : weightedSimilarity / denominator, pairs, unmatchedQuery, unmatchedList }
}

export type DateOfBirthEvidence = 'exact' | 'year' | 'contradicts' | 'unknown'
export type CountryEvidence = 'match' | 'mismatch' | 'unknown'

/** A query date of birth: 'YYYY-MM-DD' (what player events carry) or 'YYYY'. */
export interface QueryDate { readonly year: number; readonly month: number | null; readonly day: number | null }

export function parseQueryDate(text: string | null | undefined): QueryDate | null {
  if (text === null || text === undefined) return null
  const match = /^(\d{4})(?:-(\d{2})-(\d{2}))?$/.exec(text.trim())
  if (match === null) return null
  return { year: Number(match[1]), month: match[2] === undefined ? null : Number(match[2]), day: match[3] === undefined ? null : Number(match[3]) }
}

/**
 * 'exact' when a listed date has the same day, month and year; 'year' when the year falls in a
 * listed year or range (one year of slack for 'circa' dates); 'contradicts' when none does.
 */
export function dateOfBirthEvidence(query: QueryDate | null, listed: readonly DateOfBirth[]): DateOfBirthEvidence {
  if (query === null || listed.length === 0) return 'unknown'
  let best: DateOfBirthEvidence = 'contradicts'
  for (const date of listed) {
    const slack = date.approximate ? 1 : 0
    if (query.year < date.fromYear - slack || query.year > date.toYear + slack) continue
    const dayKnown = date.day !== null && date.month !== null && query.day !== null && query.month !== null
    if (dayKnown && date.fromYear === date.toYear && date.month === query.month && date.day === query.day) return 'exact'
    // Same year but another listed day and month: a different person is as likely as a typo; treat as the year only.
    best = 'year'
  }
  return best
}

export function countryEvidence(queryCountry: string | null | undefined, listed: readonly string[]): CountryEvidence {
  if (queryCountry === null || queryCountry === undefined || queryCountry === '' || listed.length === 0) return 'unknown'
  return listed.includes(queryCountry.toUpperCase()) ? 'match' : 'mismatch'
}

export function evidenceAdjustment(dateOfBirth: DateOfBirthEvidence, country: CountryEvidence): number {
  const dateAdjustment = dateOfBirth === 'exact' ? EVIDENCE.dateOfBirthExact
    : dateOfBirth === 'year' ? EVIDENCE.dateOfBirthYear
      : dateOfBirth === 'contradicts' ? EVIDENCE.dateOfBirthContradicts : 0
  const countryAdjustment = country === 'match' ? EVIDENCE.countryMatch : country === 'mismatch' ? EVIDENCE.countryMismatch : 0
  return dateAdjustment + countryAdjustment
}
