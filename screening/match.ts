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
 *   // → { score: 2 / (2 + 0.3) ≈ 0.87, pairs: [saddam=saddam 1, hussein=hussein 1], unmatchedQuery: [], unmatchedList: ['tikriti'] }
 */
import { characterCounts, characterTable, commonCharacterCount, jaroWinkler, jaroWinklerUpperBound } from './jaro-winkler.js'
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

/** Slack for float rounding when an upper bound decides that the exact value cannot reach a cut-off. */
const BOUND_MARGIN = 1e-9

// The fixed answers, shared so that comparing tokens allocates only for a Jaro-Winkler credit.
const EXACT: TokenComparison = { similarity: 1, method: 'exact' }
const INITIAL_MATCH: TokenComparison = { similarity: INITIAL_SIMILARITY, method: 'initial' }
const INITIAL_MISMATCH: TokenComparison = { similarity: 0, method: 'initial' }
const PHONETIC_MATCH: TokenComparison = { similarity: PHONETIC_SIMILARITY, method: 'phonetic' }
const NO_MATCH: TokenComparison = { similarity: 0, method: 'jaro-winkler' }

/**
 * A token prepared once for comparing with many others: list tokens when the index is built.
 *
 * Example: profileToken('anna') → { token: 'anna', key: 'an', characterCounts: [97, 2, 110, 2] }
 */
export interface TokenProfile {
  readonly token: string
  /** phoneticKey(token). */
  readonly key: string
  /** characterCounts(token) (jaro-winkler.ts), for the bound that skips Jaro; null when it has none. */
  readonly characterCounts: Uint8Array | null
}

/** The query side of a comparison carries its character counts as a table (characterTable), read once per list token. */
export interface QueryTokenProfile extends TokenProfile {
  readonly characterTable: Uint8Array | null
}

export function profileToken(token: string, key: string = phoneticKey(token)): TokenProfile {
  return { token, key, characterCounts: characterCounts(token) }
}

/** `table`, when given, is an all-zero 128-entry array to fill (scratch reused across queries). */
export function profileQueryToken(token: string, key: string = phoneticKey(token), table?: Uint8Array): QueryTokenProfile {
  const counts = characterCounts(token)
  return { token, key, characterCounts: counts, characterTable: counts === null ? null : characterTable(counts, table) }
}

export function compareTokens(queryToken: string, queryKey: string, listToken: string, listKey: string): TokenComparison {
  return compareProfiles(profileQueryToken(queryToken, queryKey), profileToken(listToken, listKey))
}

/** compareTokens on prepared tokens: the one implementation of token similarity. */
export function compareProfiles(query: QueryTokenProfile, list: TokenProfile): TokenComparison {
  const queryToken = query.token
  const listToken = list.token
  if (queryToken === listToken) return EXACT
  if (queryToken.length === 1 || listToken.length === 1) return queryToken[0] === listToken[0] ? INITIAL_MATCH : INITIAL_MISMATCH
  // Keys of one or two sounds collide too easily ('doku' / 'teaco' are both 'tk') to be trusted alone.
  const phoneticAgrees = query.key === list.key && query.key.length >= 3
  // Jaro is at most (2 + shorter/longer) / 3 and Winkler's boost adds at most 0.4 of the rest:
  // skip the full computation when even that cannot reach MIN_TOKEN_SIMILARITY, unless the keys
  // agree (then the answer is PHONETIC_SIMILARITY or more). Under the bound without agreeing
  // keys the answer is 0 whatever Jaro-Winkler says, so skipping cannot change it.
  if (!phoneticAgrees) {
    const lengthRatio = Math.min(queryToken.length, listToken.length) / Math.max(queryToken.length, listToken.length)
    const jaroBound = (2 + lengthRatio) / 3
    if (jaroBound + 0.4 * (1 - jaroBound) < MIN_TOKEN_SIMILARITY) return NO_MATCH
    // The tighter bound from the characters the tokens share (issue 10: most pairs a query meets
    // share two or three letters). The margin keeps rounding in the bound from ever deciding.
    if (query.characterTable !== null && list.characterCounts !== null) {
      const common = commonCharacterCount(query.characterTable, list.characterCounts)
      if (jaroWinklerUpperBound(queryToken, listToken, common) < MIN_TOKEN_SIMILARITY - BOUND_MARGIN) return NO_MATCH
    }
  }
  const similarity = jaroWinkler(queryToken, listToken)
  if (similarity < PHONETIC_SIMILARITY && phoneticAgrees) return PHONETIC_MATCH
  // Stretch the useful band [MIN_TOKEN_SIMILARITY, 1] of Jaro-Winkler: two different common names
  // (smirnov / mironov, 0.86) are already that close, so only near-identical tokens earn near-full credit.
  if (similarity < MIN_TOKEN_SIMILARITY) return NO_MATCH
  return { similarity: 1 - JARO_WINKLER_STRETCH * (1 - similarity), method: 'jaro-winkler' }
}

/**
 * Patronymics and Turkic 'son of / daughter of' forms: one side often omits them (OFAC writes
 * 'UMAROV, Doku', the UN 'DOKU KHAMATOVICH UMAROV'), so a missing one costs PATRONYMIC_MISS_FACTOR of a name part.
 */
const PATRONYMIC = /(?:ovich|evich|ovych|evych|ovna|evna|ivna|ogly|oglu|kyzy|qizi)$/
export const PATRONYMIC_MISS_FACTOR = 0.25

/** What a token costs when it stays unaligned, before QUERY_MISS_WEIGHT / LIST_MISS_WEIGHT. */
export function missWeight(token: string, weightOf: (token: string) => number): number {
  return PATRONYMIC.test(token) ? PATRONYMIC_MISS_FACTOR * weightOf(token) : weightOf(token)
}

/**
 * Steps 2 and 3 of the name score on plain numbers, shared by compareNames (which explains a
 * match) and the index's per-candidate scoring (index.ts, which only needs the score), so the two
 * cannot drift apart: the same pairs in the same order give the same float, bit for bit.
 * Reused across calls; nothing is allocated per name once the arrays have grown.
 *
 * Example:
 *   alignment.reset(2, 3)
 *   alignment.add(0, 2, 1); alignment.add(1, 0, 1)          // the pairs with similarity > 0
 *   alignment.score(listWeights, listMissWeights, 0, queryMissWeights) // 2 / (2 + 0.3) ≈ 0.87 for 'saddam hussein' / 'hussein tikriti saddam', all weights 1
 */
export class TokenAlignment {
  private pairQuery = new Int32Array(32)
  private pairList = new Int32Array(32)
  private pairSimilarity = new Float64Array(32)
  /** Pair indices, best similarity first; ties to the earlier query token, then the earlier list token. */
  private order = new Int32Array(32)
  private readonly used = { query: new Uint8Array(16), list: new Uint8Array(16) }
  private queryCount = 0
  private listCount = 0
  private pairCount = 0
  /** Pair indices the greedy alignment took, in the order it took them: the first alignedCount (after score()). */
  private aligned = new Int32Array(16)
  private alignedCount = 0

  reset(queryCount: number, listCount: number): void {
    this.queryCount = queryCount
    this.listCount = listCount
    this.pairCount = 0
    if (this.used.query.length < queryCount) this.used.query = new Uint8Array(queryCount * 2)
    if (this.used.list.length < listCount) this.used.list = new Uint8Array(listCount * 2)
  }

  /** A pair with similarity > 0, in any order (each pair once). */
  add(queryIndex: number, listIndex: number, similarity: number): void {
    const pair = this.pairCount
    if (pair === this.order.length) this.grow()
    this.pairQuery[pair] = queryIndex
    this.pairList[pair] = listIndex
    this.pairSimilarity[pair] = similarity
    // Insertion sort, a handful of pairs per name: best similarity first, ties to the earlier query token, then the earlier list token.
    let slot = pair
    while (slot > 0) {
      const before = this.order[slot - 1] as number
      const beforeSimilarity = this.pairSimilarity[before] as number
      const beforeQuery = this.pairQuery[before] as number
      const ranksAfter = beforeSimilarity < similarity || (beforeSimilarity === similarity
        && (beforeQuery > queryIndex || (beforeQuery === queryIndex && (this.pairList[before] as number) > listIndex)))
      if (!ranksAfter) break
      this.order[slot] = before
      slot -= 1
    }
    this.order[slot] = pair
    this.pairCount = pair + 1
  }

  get size(): number { return this.pairCount }

  /**
   * Greedy alignment, best pair first, each token used once; then
   * Σ similarity·weight / (Σ aligned weight + QUERY_MISS_WEIGHT·Σ unaligned query miss weight + LIST_MISS_WEIGHT·Σ unaligned list miss weight).
   * List weights are read at listOffset + listIndex (the index keeps every name's in one flat array).
   */
  score(listWeights: Float64Array, listMissWeights: Float64Array, listOffset: number, queryMissWeights: Float64Array): number {
    const queryUsed = this.used.query
    const listUsed = this.used.list
    // Loops, not fill(): for a handful of entries the builtin call costs more than the stores.
    for (let queryIndex = 0; queryIndex < this.queryCount; queryIndex += 1) queryUsed[queryIndex] = 0
    for (let listIndex = 0; listIndex < this.listCount; listIndex += 1) listUsed[listIndex] = 0
    if (this.aligned.length < Math.min(this.queryCount, this.listCount)) this.aligned = new Int32Array(Math.min(this.queryCount, this.listCount) * 2)
    let alignedCount = 0
    let matchedWeight = 0
    let weightedSimilarity = 0
    for (let rank = 0; rank < this.pairCount; rank += 1) {
      const pair = this.order[rank] as number
      const queryIndex = this.pairQuery[pair] as number
      const listIndex = this.pairList[pair] as number
      if (queryUsed[queryIndex] === 1 || listUsed[listIndex] === 1) continue
      queryUsed[queryIndex] = 1
      listUsed[listIndex] = 1
      this.aligned[alignedCount++] = pair
      // The list token's rarity: a typo in the query must not make the token look rare.
      const weight = listWeights[listOffset + listIndex] as number
      matchedWeight += weight
      weightedSimilarity += weight * (this.pairSimilarity[pair] as number)
    }
    let missing = 0
    for (let queryIndex = 0; queryIndex < this.queryCount; queryIndex += 1) {
      if (queryUsed[queryIndex] === 0) missing += QUERY_MISS_WEIGHT * (queryMissWeights[queryIndex] as number)
    }
    for (let listIndex = 0; listIndex < this.listCount; listIndex += 1) {
      if (listUsed[listIndex] === 0) missing += LIST_MISS_WEIGHT * (listMissWeights[listOffset + listIndex] as number)
    }
    this.alignedCount = alignedCount
    const denominator = matchedWeight + missing
    return denominator === 0 ? 0 : weightedSimilarity / denominator
  }

  /** The pairs score() aligned, in the order it took them. */
  alignedPairs(): number[] {
    return Array.from(this.aligned.subarray(0, this.alignedCount))
  }

  pairOf(pair: number): { readonly queryIndex: number; readonly listIndex: number; readonly similarity: number } {
    return { queryIndex: this.pairQuery[pair] as number, listIndex: this.pairList[pair] as number, similarity: this.pairSimilarity[pair] as number }
  }

  isQueryAligned(queryIndex: number): boolean { return this.used.query[queryIndex] === 1 }
  isListAligned(listIndex: number): boolean { return this.used.list[listIndex] === 1 }

  private grow(): void {
    const size = this.order.length * 2
    const grown = <T extends Int32Array | Float64Array>(from: T, to: T): T => { to.set(from); return to }
    this.pairQuery = grown(this.pairQuery, new Int32Array(size))
    this.pairList = grown(this.pairList, new Int32Array(size))
    this.pairSimilarity = grown(this.pairSimilarity, new Float64Array(size))
    this.order = grown(this.order, new Int32Array(size))
  }
}

type CompareTokens = (queryIndex: number, listToken: string, listKey: string) => TokenComparison

// compareNames is synchronous, so one alignment serves every call.
const sharedAlignment = new TokenAlignment()

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
  const alignment = sharedAlignment
  alignment.reset(query.tokens.length, list.tokens.length)
  const methods: TokenMethod[] = []
  for (let queryIndex = 0; queryIndex < query.tokens.length; queryIndex += 1) {
    for (let listIndex = 0; listIndex < list.tokens.length; listIndex += 1) {
      const { similarity, method } = compare(queryIndex, list.tokens[listIndex] as string, list.keys[listIndex] as string)
      if (similarity > 0) {
        alignment.add(queryIndex, listIndex, similarity)
        methods.push(method)
      }
    }
  }
  // Plain loops: Float64Array.from with a mapping function is several times slower in V8.
  const listWeights = new Float64Array(list.tokens.length)
  const listMissWeights = new Float64Array(list.tokens.length)
  const queryMissWeights = new Float64Array(query.tokens.length)
  list.tokens.forEach((token, index) => {
    listWeights[index] = weightOf(token)
    listMissWeights[index] = missWeight(token, weightOf)
  })
  query.tokens.forEach((token, index) => { queryMissWeights[index] = missWeight(token, weightOf) })
  const score = alignment.score(listWeights, listMissWeights, 0, queryMissWeights)
  const pairs = alignment.alignedPairs().map((pair): TokenPair => {
    const { queryIndex, listIndex, similarity } = alignment.pairOf(pair)
    return { queryToken: query.tokens[queryIndex] as string, listToken: list.tokens[listIndex] as string, similarity, method: methods[pair] as TokenMethod }
  })
  const unmatchedQuery = query.tokens.filter((_, index) => !alignment.isQueryAligned(index))
  const unmatchedList = list.tokens.filter((_, index) => !alignment.isListAligned(index))
  return { score, pairs, unmatchedQuery, unmatchedList }
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
