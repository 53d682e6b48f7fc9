/**
 * The screener as it was before issue 10's speed-up (git 6a82d30: screening/index.ts,
 * compareTokens/compareNames from match.ts, jaro-winkler.ts), kept only as the reference the
 * differential test (screen-equivalence.test.ts) holds the product screener to: same matches,
 * same scores bit for bit, same order. Normalisation, the phonetic key, the constants and the
 * evidence functions are imported from the product, so a deliberate change to those moves both
 * sides; only the algorithm (blocking, candidate ranking, token comparison, alignment) is copied.
 * Do not optimise this file: its worth is being the plain version.
 *
 * Example:
 *   const reference = buildReferenceScreener([sdn])
 *   expect(buildScreener([sdn]).screen(query)).toEqual(reference.screen(query))
 */
import { RiskError } from '../../core/errors.js'
import {
  countryEvidence, dateOfBirthEvidence, evidenceAdjustment, INITIAL_SIMILARITY, JARO_WINKLER_STRETCH, MIN_TOKEN_SIMILARITY,
  NAME_KIND_FACTOR, parseQueryDate, PATRONYMIC_MISS_FACTOR, PHONETIC_SIMILARITY, prepareTokens, QUERY_MISS_WEIGHT, LIST_MISS_WEIGHT,
  type NameComparison, type PreparedTokens, type TokenComparison, type TokenMethod, type TokenPair,
} from '../../screening/match.js'
import { normaliseName } from '../../screening/normalise.js'
import { DEFAULT_THRESHOLD, type ScreenerOptions, type Screener, type ScreeningMatch, type ScreeningQuery, type ScreeningResult } from '../../screening/index.js'
import type { EntryName, EntryType, ListEntry, LoadedList } from '../../screening/types.js'

// ---- jaro-winkler.ts ----
let firstMatched = new Uint8Array(64)
let secondMatched = new Uint8Array(64)

function jaro(first: string, second: string): number {
  if (first === second) return 1
  const firstLength = first.length
  const secondLength = second.length
  if (firstLength === 0 || secondLength === 0) return 0
  if (firstMatched.length < firstLength) firstMatched = new Uint8Array(firstLength * 2)
  if (secondMatched.length < secondLength) secondMatched = new Uint8Array(secondLength * 2)
  firstMatched.fill(0, 0, firstLength)
  secondMatched.fill(0, 0, secondLength)
  const window = Math.max(0, Math.floor(Math.max(firstLength, secondLength) / 2) - 1)
  let matches = 0
  for (let index = 0; index < firstLength; index += 1) {
    const code = first.charCodeAt(index)
    const start = Math.max(0, index - window)
    const end = Math.min(secondLength - 1, index + window)
    for (let other = start; other <= end; other += 1) {
      if (secondMatched[other] === 0 && second.charCodeAt(other) === code) {
        firstMatched[index] = 1
        secondMatched[other] = 1
        matches += 1
        break
      }
    }
  }
  if (matches === 0) return 0
  let halfTranspositions = 0
  let other = 0
  for (let index = 0; index < firstLength; index += 1) {
    if (firstMatched[index] === 0) continue
    while (secondMatched[other] === 0) other += 1
    if (first.charCodeAt(index) !== second.charCodeAt(other)) halfTranspositions += 1
    other += 1
  }
  const transpositions = halfTranspositions / 2
  return (matches / firstLength + matches / secondLength + (matches - transpositions) / matches) / 3
}

function jaroWinkler(first: string, second: string, prefixScale = 0.1): number {
  const similarity = jaro(first, second)
  if (similarity <= 0.7) return similarity
  let prefix = 0
  const limit = Math.min(4, first.length, second.length)
  while (prefix < limit && first.charCodeAt(prefix) === second.charCodeAt(prefix)) prefix += 1
  return similarity + prefix * prefixScale * (1 - similarity)
}

// ---- match.ts ----
function compareTokens(queryToken: string, queryKey: string, listToken: string, listKey: string): TokenComparison {
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
function compareNames(
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

// ---- index.ts ----
interface IndexedName {
  readonly entry: number
  readonly name: EntryName
  readonly prepared: PreparedTokens
}

/** Weight of a shared phonetic key relative to a shared token when ranking candidates. */
const PHONETIC_BLOCK_WEIGHT = 0.8

/**
 * The `count` names with the highest block score, without sorting them all: a common token
 * ('mohammed') touches thousands of names. Ties at the cut go to the lower name index, so the
 * result never depends on Map iteration order.
 */
function topCandidates(touched: readonly number[], blockScores: Float64Array, count: number): number[] {
  const scores = Float64Array.from(touched, (nameIndex) => blockScores[nameIndex] as number)
  // Quickselect the count-th largest score.
  let low = 0
  let high = scores.length - 1
  const target = count - 1
  while (low < high) {
    const pivot = scores[(low + high) >>> 1] as number
    let left = low
    let right = high
    while (left <= right) {
      while ((scores[left] as number) > pivot) left += 1
      while ((scores[right] as number) < pivot) right -= 1
      if (left <= right) {
        const swap = scores[left] as number
        scores[left] = scores[right] as number
        scores[right] = swap
        left += 1
        right -= 1
      }
    }
    if (target <= right) high = right
    else if (target >= left) low = left
    else break
  }
  const cut = scores[target] as number
  const above = touched.filter((nameIndex) => (blockScores[nameIndex] as number) > cut)
  const atCut = touched.filter((nameIndex) => blockScores[nameIndex] === cut).sort((left, right) => left - right)
  return above.concat(atCut.slice(0, count - above.length))
}

function addPosting(index: Map<string, number[]>, key: string, nameIndex: number): void {
  const postings = index.get(key)
  if (postings === undefined) index.set(key, [nameIndex])
  else if (postings.at(-1) !== nameIndex) postings.push(nameIndex)
}

export function buildReferenceScreener(lists: readonly LoadedList[], options: ScreenerOptions = {}): Screener {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD
  const maxCandidates = options.maxCandidates ?? 24
  const maxMatches = options.maxMatches ?? 10
  if (!(threshold > 0 && threshold <= 1) || !(maxCandidates >= 1) || !(maxMatches >= 1)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `screener options out of range (threshold ${threshold} must be in (0, 1], maxCandidates ${maxCandidates} and maxMatches ${maxMatches} at least 1)`, { threshold, maxCandidates, maxMatches })
  }
  const entries: ListEntry[] = lists.flatMap((list) => list.entries)
  const names: IndexedName[] = []
  const tokenIndex = new Map<string, number[]>()
  const keyIndex = new Map<string, number[]>()
  const exactIndex = new Map<string, ListEntry[]>()
  entries.forEach((entry, entryIndex) => {
    const seen = new Set<string>()
    for (const name of entry.names) {
      const { tokens } = normaliseName(name.full)
      const signature = tokens.join(' ')
      // The same normalised name twice on one entry (case or punctuation variants) is indexed once, keeping the stronger kind.
      if (tokens.length === 0 || seen.has(signature)) continue
      seen.add(signature)
      const nameIndex = names.length
      const prepared = prepareTokens(tokens)
      names.push({ entry: entryIndex, name, prepared })
      prepared.tokens.forEach((token) => addPosting(tokenIndex, token, nameIndex))
      prepared.keys.forEach((key) => addPosting(keyIndex, key, nameIndex))
      const exactKey = [...tokens].sort().join(' ')
      const exact = exactIndex.get(exactKey) ?? []
      if (!exact.includes(entry)) exact.push(entry)
      exactIndex.set(exactKey, exact)
    }
  })
  // Inverse document frequency over names: log(1 + N / (1 + df)). Unknown tokens get the rarest weight.
  const nameTotal = Math.max(1, names.length)
  const rarestWeight = Math.log(1 + nameTotal)
  const weightCache = new Map<string, number>()
  const weightOf = (token: string): number => {
    let weight = weightCache.get(token)
    if (weight === undefined) {
      const frequency = tokenIndex.get(token)?.length ?? 0
      weight = frequency === 0 ? rarestWeight : Math.log(1 + nameTotal / (1 + frequency))
      if (weightCache.size < 1_000_000) weightCache.set(token, weight)
    }
    return weight
  }
  for (const token of tokenIndex.keys()) weightOf(token)
  const blockScores = new Float64Array(names.length)
  const nameTypes = names.map((indexed) => (entries[indexed.entry] as ListEntry).type)
  const listVersions: Record<string, string> = {}
  for (const list of lists) listVersions[list.version.listId] = list.version.version

  function screen(query: ScreeningQuery): ScreeningResult {
    const normalised = normaliseName(query.fullName)
    const prepared = prepareTokens(normalised.tokens)
    const touched: number[] = []
    const types = query.types
    const accumulate = (postings: readonly number[] | undefined, weight: number): void => {
      if (postings === undefined) return
      for (const nameIndex of postings) {
        if (types !== undefined && !types.includes(nameTypes[nameIndex] as EntryType)) continue
        if (blockScores[nameIndex] === 0) touched.push(nameIndex)
        blockScores[nameIndex] = (blockScores[nameIndex] as number) + weight
      }
    }
    prepared.tokens.forEach((token, position) => {
      const weight = weightOf(token)
      accumulate(tokenIndex.get(token), weight)
      accumulate(keyIndex.get(prepared.keys[position] as string), weight * PHONETIC_BLOCK_WEIGHT)
    })
    const candidates = touched.length > maxCandidates ? topCandidates(touched, blockScores, maxCandidates) : touched
    for (const nameIndex of touched) blockScores[nameIndex] = 0
    const tokenCache = prepared.tokens.map(() => new Map<string, TokenComparison>())
    const compare = (queryIndex: number, listToken: string, listKey: string): TokenComparison => {
      const cache = tokenCache[queryIndex] as Map<string, TokenComparison>
      let comparison = cache.get(listToken)
      if (comparison === undefined) {
        comparison = compareTokens(prepared.tokens[queryIndex] as string, prepared.keys[queryIndex] as string, listToken, listKey)
        cache.set(listToken, comparison)
      }
      return comparison
    }

    const queryDate = parseQueryDate(query.dateOfBirth)
    const bestByEntry = new Map<number, ScreeningMatch>()
    let bestScore = 0
    for (const nameIndex of candidates) {
      const indexed = names[nameIndex] as IndexedName
      const entry = entries[indexed.entry] as ListEntry
      const comparison = compareNames(prepared, indexed.prepared, weightOf, compare)
      const nameScore = comparison.score * NAME_KIND_FACTOR[indexed.name.kind]
      const dateOfBirth = dateOfBirthEvidence(queryDate, entry.datesOfBirth)
      const country = countryEvidence(query.country, entry.countries)
      const adjustment = nameScore > 0 ? evidenceAdjustment(dateOfBirth, country) : 0
      const score = Math.min(1, Math.max(0, nameScore + adjustment))
      if (score > bestScore) bestScore = score
      // Only matches at or above the threshold are returned; building the rest is wasted work.
      if (score < threshold) continue
      const previous = bestByEntry.get(indexed.entry)
      if (previous !== undefined && previous.score >= score) continue
      bestByEntry.set(indexed.entry, {
        listId: entry.listId,
        listVersion: entry.listVersion,
        entryId: entry.entryId,
        entryVersion: entry.entryVersion,
        entryType: entry.type,
        score,
        matchedName: indexed.name.full,
        features: {
          nameScore,
          nameKind: indexed.name.kind,
          pairs: comparison.pairs,
          unmatchedQueryTokens: comparison.unmatchedQuery,
          unmatchedListTokens: comparison.unmatchedList,
          droppedFromQuery: normalised.dropped,
          dateOfBirth,
          country,
          evidenceAdjustment: adjustment,
        },
        names: entry.names,
      })
    }
    const matches = [...bestByEntry.values()]
      .sort((left, right) => right.score - left.score || left.listId.localeCompare(right.listId) || left.entryId.localeCompare(right.entryId))
      .slice(0, maxMatches)
    return { matches, bestScore, candidatesScored: candidates.length, threshold }
  }

  return {
    screen,
    threshold,
    listVersions,
    entryCount: entries.length,
    nameCount: names.length,
    exactLookup(fullName) {
      return exactIndex.get([...normaliseName(fullName).tokens].sort().join(' ')) ?? []
    },
  }
}
