/**
 * The screener: an in-memory index over one or more loaded lists, queried synchronously per
 * player event. Build it once per list version (building SDN + UN takes well under a second) and
 * swap the reference when a new version loads; a built screener never changes.
 *
 * Blocking: every list name is posted under each of its tokens and each token's phonetic key.
 * A query collects the list names that share a token or a key with it, ranks them by the rarity
 * of what they share, and scores only the best `maxCandidates` of them in full (match.ts), so a
 * query never scans the list.
 *
 * Example:
 *   const screener = buildScreener([sdn, un], { threshold: 0.84 })
 *   const result = screener.screen({ fullName: 'Saddam Hussein', dateOfBirth: '1937-04-28', country: 'IQ' })
 *   result.bestScore            // 0.93
 *   result.matches[0].entryId   // '6908048' (UN) …
 *   result.matches[0].features  // { nameScore, pairs: [{ queryToken: 'saddam', listToken: 'saddam', … }], dateOfBirth: 'exact', … }
 */
import { RiskError } from '../core/errors.js'
import {
  compareNames, compareTokens, countryEvidence, dateOfBirthEvidence, evidenceAdjustment, NAME_KIND_FACTOR, parseQueryDate, prepareTokens,
  type CountryEvidence, type DateOfBirthEvidence, type PreparedTokens, type TokenComparison, type TokenPair,
} from './match.js'
import { normaliseName, type DroppedKind } from './normalise.js'
import type { EntryName, EntryType, ListEntry, LoadedList, NameKind } from './types.js'

export interface ScreenerOptions {
  /** Matches scoring at or above this are returned. Default DEFAULT_THRESHOLD (chosen on the evaluation in bench/screening.bench.ts). */
  readonly threshold?: number
  /** How many blocked list names are scored in full per query; more costs time, fewer can miss a typo'd name. Default 24 (recall on the evaluation is the same as with 64). */
  readonly maxCandidates?: number
  /** At most this many matches per query, best first. Default 10. */
  readonly maxMatches?: number
}

export const DEFAULT_THRESHOLD = 0.84

export interface ScreeningQuery {
  /** The name as the player gave it, any order, any script handled by normalise.ts. */
  readonly fullName: string
  /** YYYY-MM-DD (player events) or YYYY; null or absent when unknown. */
  readonly dateOfBirth?: string | null
  /** ISO 3166-1 alpha-2; null or absent when unknown. */
  readonly country?: string | null
  /** Only entries of these types (e.g. ['individual'] for players); all types when absent. */
  readonly types?: readonly EntryType[]
}

export interface MatchFeatures {
  /** Name similarity before evidence, after the weak-alias factor. */
  readonly nameScore: number
  readonly nameKind: NameKind
  readonly pairs: readonly TokenPair[]
  readonly unmatchedQueryTokens: readonly string[]
  readonly unmatchedListTokens: readonly string[]
  /** Honorifics, company forms and particles normalisation removed from the query. */
  readonly droppedFromQuery: readonly { readonly token: string; readonly kind: DroppedKind }[]
  readonly dateOfBirth: DateOfBirthEvidence
  readonly country: CountryEvidence
  /** What date of birth and country added to or took from the name score. */
  readonly evidenceAdjustment: number
}

export interface ScreeningMatch {
  readonly listId: string
  readonly listVersion: string
  readonly entryId: string
  readonly entryVersion: string
  readonly entryType: EntryType
  readonly score: number
  /** The list name that scored best, as the list writes it. */
  readonly matchedName: string
  readonly features: MatchFeatures
  /** All names of the entry, for the officer. */
  readonly names: readonly EntryName[]
}

export interface ScreeningResult {
  /** Matches at or above the threshold, best first. */
  readonly matches: readonly ScreeningMatch[]
  /** Best score of any scored candidate, above the threshold or not (0 when none was scored). */
  readonly bestScore: number
  readonly candidatesScored: number
  readonly threshold: number
}

export interface Screener {
  screen(query: ScreeningQuery): ScreeningResult
  readonly threshold: number
  /** listId → version of every list in the index. */
  readonly listVersions: Readonly<Record<string, string>>
  readonly entryCount: number
  readonly nameCount: number
  /** Exact lookup of a normalised name (tokens sorted), no fuzziness: the benchmark's baseline. */
  exactLookup(fullName: string): readonly ListEntry[]
}

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

export function buildScreener(lists: readonly LoadedList[], options: ScreenerOptions = {}): Screener {
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
