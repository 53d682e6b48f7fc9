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
 * Cost per query (issue 10): everything about the list side is worked out when the index is
 * built (token ids, weights, miss weights, phonetic keys, character counts), so a query pays for
 * its own tokens, the postings it touches, and one comparison per (query token, distinct list
 * token) among its candidates; the explanation of a match (aligned pairs) is built only for what
 * is returned. The answers are those of the plain algorithm, bit for bit:
 * test/screening/screen-equivalence.test.ts holds the two together.
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
  compareNames, compareProfiles, countryEvidence, dateOfBirthEvidence, evidenceAdjustment, MIN_TOKEN_SIMILARITY, missWeight, NAME_KIND_FACTOR, parseQueryDate, prepareTokens,
  profileQueryToken, TokenAlignment,
  type CountryEvidence, type DateOfBirthEvidence, type PreparedTokens, type QueryTokenProfile, type TokenComparison, type TokenPair, type TokenProfile,
} from './match.js'
import { characterCounts } from './jaro-winkler.js'
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
 * The list side, laid out for queries: a name is the run nameTokenStart[name] ..
 * nameTokenStart[name + 1] of nameTokenIds, and every per-token figure a candidate needs sits in
 * an array beside it.
 */
interface NameIndex {
  readonly names: readonly IndexedName[]
  readonly tokenIds: ReadonlyMap<string, number>
  /** Names carrying each token id, ascending. */
  readonly tokenPostings: Postings
  /** Names carrying each phonetic key (by key id, keyIds), ascending. */
  readonly keyPostings: Postings
  readonly tokenWeights: Float64Array
  readonly tokenProfiles: readonly TokenProfile[]
  /** Per token id, for the quick bound in SimilarityRows: see tokenScreens(). */
  readonly tokenScreens: TokenScreens
  readonly keyIds: ReadonlyMap<string, number>
  readonly nameTokenStart: Int32Array
  readonly nameTokenIds: Int32Array
  /** tokenWeights and miss weights (match.ts missWeight) of nameTokenIds, position for position. */
  readonly nameTokenWeights: Float64Array
  readonly nameTokenMissWeights: Float64Array
  readonly nameKindFactors: Float64Array
  readonly nameEntries: Int32Array
  /** Entry types as small codes (typeCodes), so the type filter on a posting is an array read. */
  readonly nameTypeCodes: Uint8Array
  readonly typeCodes: ReadonlyMap<EntryType, number>
  readonly exactIndex: ReadonlyMap<string, ListEntry[]>
  /** Inverse document frequency over names of a token, log(1 + N / (1 + df)); unknown tokens get the rarest weight. */
  weightOf(token: string): number
}

/**
 * Posting lists in two flat arrays: the names of list `id` are names[starts[id]] ..
 * names[starts[id + 1] - 1]. Tens of thousands of small typed arrays would cost more in object
 * headers than in postings (issue 10).
 */
interface Postings {
  readonly starts: Int32Array
  readonly names: Int32Array
}

function flattenPostings(lists: readonly (readonly number[])[]): Postings {
  const starts = new Int32Array(lists.length + 1)
  lists.forEach((postings, id) => { starts[id + 1] = (starts[id] as number) + postings.length })
  const names = new Int32Array(starts[lists.length] as number)
  lists.forEach((postings, id) => names.set(postings, starts[id] as number))
  return { starts, names }
}

/** List profiles whose character counts are views into one buffer, for the same reason. */
function profileListTokens(tokens: readonly string[], keys: readonly string[]): TokenProfile[] {
  const counts = tokens.map((token) => characterCounts(token))
  const buffer = new Uint8Array(counts.reduce((total, tokenCounts) => total + (tokenCounts?.length ?? 0), 0))
  let offset = 0
  return tokens.map((token, tokenId) => {
    const tokenCounts = counts[tokenId] ?? null
    if (tokenCounts === null) return { token, key: keys[tokenId] as string, characterCounts: null }
    buffer.set(tokenCounts, offset)
    offset += tokenCounts.length
    return { token, key: keys[tokenId] as string, characterCounts: buffer.subarray(offset - tokenCounts.length, offset) }
  })
}

/**
 * What the quick bound needs of each list token, in flat arrays (four reads at one index instead
 * of a profile object, its string and its counts scattered over the heap). `masks` has bit (code & 31) set for
 * every character of the token, so a character whose bit is clear is not in it; 0 when the token
 * has a character beyond ASCII (no quick bound). `prefixes` packs the first four character codes.
 */
interface TokenScreens {
  readonly masks: Int32Array
  readonly lengths: Int32Array
  readonly prefixes: Int32Array
  readonly keyIds: Int32Array
}

function characterBit(code: number): number {
  return 1 << (code & 31)
}

function packPrefix(token: string): number {
  let packed = 0
  for (let index = 0; index < Math.min(4, token.length); index += 1) packed |= (token.charCodeAt(index) & 0x7f) << (7 * index)
  return packed
}

function tokenScreens(tokens: readonly string[], keyIds: readonly number[]): TokenScreens {
  return {
    masks: Int32Array.from(tokens, (token) => {
      let mask = 0
      for (let index = 0; index < token.length; index += 1) {
        const code = token.charCodeAt(index)
        if (code >= 128) return 0
        mask |= characterBit(code)
      }
      return mask
    }),
    lengths: Int32Array.from(tokens, (token) => token.length),
    prefixes: Int32Array.from(tokens, packPrefix),
    keyIds: Int32Array.from(keyIds),
  }
}

function indexNames(entries: readonly ListEntry[]): NameIndex {
  const names: IndexedName[] = []
  const tokenIds = new Map<string, number>()
  const tokenStrings: string[] = []
  const tokenKeys: string[] = []
  const tokenPostingLists: number[][] = []
  const keyPostingLists = new Map<string, number[]>()
  const nameTokenIdList: number[] = []
  const nameTokenStartList: number[] = [0]
  const exactIndex = new Map<string, ListEntry[]>()
  const addPosting = (postings: number[], nameIndex: number): void => {
    if (postings.at(-1) !== nameIndex) postings.push(nameIndex)
  }
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
      prepared.tokens.forEach((token, position) => {
        let tokenId = tokenIds.get(token)
        if (tokenId === undefined) {
          tokenId = tokenStrings.length
          tokenIds.set(token, tokenId)
          tokenStrings.push(token)
          tokenKeys.push(prepared.keys[position] as string)
          tokenPostingLists.push([])
        }
        nameTokenIdList.push(tokenId)
        addPosting(tokenPostingLists[tokenId] as number[], nameIndex)
      })
      nameTokenStartList.push(nameTokenIdList.length)
      for (const key of prepared.keys) {
        const postings = keyPostingLists.get(key)
        if (postings === undefined) keyPostingLists.set(key, [nameIndex])
        else addPosting(postings, nameIndex)
      }
      const exactKey = [...tokens].sort().join(' ')
      const exact = exactIndex.get(exactKey) ?? []
      if (!exact.includes(entry)) exact.push(entry)
      exactIndex.set(exactKey, exact)
    }
  })
  const nameTotal = Math.max(1, names.length)
  const rarestWeight = Math.log(1 + nameTotal)
  const tokenWeights = Float64Array.from(tokenPostingLists, (postings) => Math.log(1 + nameTotal / (1 + postings.length)))
  const weightOf = (token: string): number => {
    const tokenId = tokenIds.get(token)
    return tokenId === undefined ? rarestWeight : (tokenWeights[tokenId] as number)
  }
  const nameTokenIds = Int32Array.from(nameTokenIdList)
  const tokenMissWeights = Float64Array.from(tokenStrings, (token) => missWeight(token, weightOf))
  const typeCodes = new Map<EntryType, number>()
  const keyIds = new Map<string, number>()
  for (const key of keyPostingLists.keys()) keyIds.set(key, keyIds.size)
  return {
    names,
    tokenIds,
    tokenPostings: flattenPostings(tokenPostingLists),
    keyPostings: flattenPostings([...keyPostingLists.values()]),
    tokenWeights,
    tokenProfiles: profileListTokens(tokenStrings, tokenKeys),
    tokenScreens: tokenScreens(tokenStrings, tokenKeys.map((key) => keyIds.get(key) as number)),
    keyIds,
    nameTokenStart: Int32Array.from(nameTokenStartList),
    nameTokenIds,
    nameTokenWeights: Float64Array.from(nameTokenIds, (tokenId) => tokenWeights[tokenId] as number),
    nameTokenMissWeights: Float64Array.from(nameTokenIds, (tokenId) => tokenMissWeights[tokenId] as number),
    nameKindFactors: Float64Array.from(names, (indexed) => NAME_KIND_FACTOR[indexed.name.kind]),
    nameEntries: Int32Array.from(names, (indexed) => indexed.entry),
    nameTypeCodes: Uint8Array.from(names, (indexed) => {
      const type = (entries[indexed.entry] as ListEntry).type
      let code = typeCodes.get(type)
      if (code === undefined) typeCodes.set(type, code = typeCodes.size)
      return code
    }),
    typeCodes,
    exactIndex,
    weightOf,
  }
}

/**
 * The query's tokens with what the index knows of them, looked up once per query: token and key
 * ids (-1 when the lists do not have them), weights and miss weights. Reused across queries.
 */
class QueryTokens {
  prepared: PreparedTokens = { tokens: [], keys: [] }
  count = 0
  tokenIds = new Int32Array(8)
  keyIds = new Int32Array(8)
  weights = new Float64Array(8)
  missWeights = new Float64Array(8)

  constructor(private readonly index: NameIndex) {}

  set(prepared: PreparedTokens): void {
    const count = prepared.tokens.length
    if (this.tokenIds.length < count) {
      this.tokenIds = new Int32Array(count * 2)
      this.keyIds = new Int32Array(count * 2)
      this.weights = new Float64Array(count * 2)
      this.missWeights = new Float64Array(count * 2)
    }
    this.prepared = prepared
    this.count = count
    for (let position = 0; position < count; position += 1) {
      const token = prepared.tokens[position] as string
      this.tokenIds[position] = this.index.tokenIds.get(token) ?? -1
      this.keyIds[position] = this.index.keyIds.get(prepared.keys[position] as string) ?? -1
      this.weights[position] = this.index.weightOf(token)
      this.missWeights[position] = missWeight(token, this.index.weightOf)
    }
  }
}

/**
 * Candidate generation for one query at a time (screen() is synchronous), on scratch arrays
 * reused across queries: block scores are summed per touched name, then cut to the best
 * `maxCandidates`. Names above the cut keep the order they were first touched in; names at the
 * cut follow in name order, and only as many as fit, so the result never depends on Map
 * iteration order.
 */
class Blocker {
  private readonly blockScores: Float64Array
  private readonly touched: Int32Array
  private readonly selectScratch: Float64Array
  private readonly allowedTypes: Uint8Array
  private touchedCount = 0
  private filterTypes = false

  constructor(private readonly index: NameIndex, private readonly maxCandidates: number) {
    this.blockScores = new Float64Array(index.names.length)
    this.touched = new Int32Array(index.names.length)
    this.selectScratch = new Float64Array(index.names.length)
    this.allowedTypes = new Uint8Array(index.typeCodes.size)
  }

  /** The candidates (name indices) in scoring order; valid until the next call. */
  candidates(query: QueryTokens, types: readonly EntryType[] | undefined): { readonly names: ArrayLike<number>; readonly count: number } {
    const index = this.index
    this.filterTypes = types !== undefined
    if (types !== undefined) for (const [type, code] of index.typeCodes) this.allowedTypes[code] = types.includes(type) ? 1 : 0
    this.touchedCount = 0
    for (let position = 0; position < query.count; position += 1) {
      const tokenId = query.tokenIds[position] as number
      const keyId = query.keyIds[position] as number
      const weight = query.weights[position] as number
      if (tokenId >= 0) this.accumulate(index.tokenPostings, tokenId, weight)
      if (keyId >= 0) this.accumulate(index.keyPostings, keyId, weight * PHONETIC_BLOCK_WEIGHT)
    }
    const touchedCount = this.touchedCount
    const result = touchedCount > this.maxCandidates
      ? { names: this.top(this.maxCandidates), count: this.maxCandidates }
      : { names: this.touched, count: touchedCount }
    for (let position = 0; position < touchedCount; position += 1) this.blockScores[this.touched[position] as number] = 0
    return result
  }

  private accumulate(postings: Postings, id: number, weight: number): void {
    const { blockScores, touched, allowedTypes } = this
    const nameTypeCodes = this.index.nameTypeCodes
    const filterTypes = this.filterTypes
    const names = postings.names
    const end = postings.starts[id + 1] as number
    let touchedCount = this.touchedCount
    for (let position = postings.starts[id] as number; position < end; position += 1) {
      const nameIndex = names[position] as number
      if (filterTypes && allowedTypes[nameTypeCodes[nameIndex] as number] === 0) continue
      const blockScore = blockScores[nameIndex] as number
      // Every weight is above 0, so a score of 0 means not touched yet in this query.
      if (blockScore === 0) touched[touchedCount++] = nameIndex
      blockScores[nameIndex] = blockScore + weight
    }
    this.touchedCount = touchedCount
  }

  /** The `count` touched names with the highest block score, without sorting them all: a common token ('mohammed') touches thousands. */
  private top(count: number): number[] {
    const { blockScores, touched, touchedCount } = this
    // A view of exactly touchedCount scores: the partition scans must not run into stale scratch.
    const scores = this.selectScratch.subarray(0, touchedCount)
    for (let position = 0; position < touchedCount; position += 1) scores[position] = blockScores[touched[position] as number] as number
    // Quickselect the count-th largest score.
    let low = 0
    let high = touchedCount - 1
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
    const above: number[] = []
    let atCutCount = 0
    for (let position = 0; position < touchedCount; position += 1) {
      const nameIndex = touched[position] as number
      const score = blockScores[nameIndex] as number
      if (score > cut) above.push(nameIndex)
      else if (score === cut) atCutCount += 1
    }
    const atCut = new Int32Array(atCutCount)
    atCutCount = 0
    for (let position = 0; position < touchedCount; position += 1) {
      const nameIndex = touched[position] as number
      if (blockScores[nameIndex] === cut) atCut[atCutCount++] = nameIndex
    }
    atCut.sort()
    for (let position = 0; above.length < count; position += 1) above.push(atCut[position] as number)
    return above
  }
}

/** A query token as the quick bound reads it. */
interface QueryTokenScreen {
  readonly tokenId: number
  readonly keyId: number
  readonly keyUsable: boolean
  readonly length: number
  readonly prefix: number
  /** characterCounts of the token ([code, count, …]) with each code's characterBit, or null (no quick bound). */
  readonly counts: Uint8Array | null
  readonly bits: Int32Array
}

/**
 * The similarities of the query's tokens to each list token its candidates carry, one row per
 * list token (a row holds one similarity per query token), compared on first use in the query:
 * list tokens repeat across candidates ('mohammed', 'ali'). Rows are found through a stamp per
 * token id, so nothing is cleared between queries.
 *
 * Most pairs a query meets share a few letters and nothing else. Before compareProfiles, a
 * bound read from flat arrays settles them: Jaro counts at most the characters both tokens have,
 * and those are at most the query token's characters whose bit is in the list token's mask;
 * with Winkler's boost for the actual common prefix, a pair under MIN_TOKEN_SIMILARITY whose
 * phonetic keys do not agree has similarity 0 in compareProfiles too (same rules, looser bound).
 */
class SimilarityRows {
  private readonly stamps: Uint32Array
  private readonly rowOfToken: Int32Array
  private similarities = new Float64Array(256)
  private stamp = 0
  private rowCount = 0
  private queryProfiles: readonly QueryTokenProfile[] = []
  private queryScreens: readonly QueryTokenScreen[] = []
  /** One zeroed 128-entry table per query token (characterTable), reused. */
  private readonly characterTables: Uint8Array[] = []

  constructor(private readonly index: NameIndex) {
    this.stamps = new Uint32Array(index.tokenProfiles.length)
    this.rowOfToken = new Int32Array(index.tokenProfiles.length)
  }

  begin(query: QueryTokens): void {
    const prepared = query.prepared
    this.stamp = this.stamp === 0xffffffff ? 1 : this.stamp + 1
    if (this.stamp === 1) this.stamps.fill(0)
    this.rowCount = 0
    for (const table of this.characterTables) table.fill(0)
    while (this.characterTables.length < prepared.tokens.length) this.characterTables.push(new Uint8Array(128))
    this.queryProfiles = prepared.tokens.map((token, position) => profileQueryToken(token, prepared.keys[position], this.characterTables[position]))
    this.queryScreens = this.queryProfiles.map((profile, position): QueryTokenScreen => {
      const counts = profile.characterCounts
      const bits = new Int32Array(counts === null ? 0 : counts.length / 2)
      for (let slot = 0; slot < bits.length; slot += 1) bits[slot] = characterBit((counts as Uint8Array)[slot * 2] as number)
      return {
        tokenId: query.tokenIds[position] as number,
        keyId: query.keyIds[position] as number,
        keyUsable: profile.key.length >= 3,
        length: profile.token.length,
        prefix: packPrefix(profile.token),
        counts,
        bits,
      }
    })
  }

  /** Where the row of a list token starts in `values` (read `values` after the call: it may grow). */
  rowStart(tokenId: number): number {
    const queryCount = this.queryProfiles.length
    if (this.stamps[tokenId] === this.stamp) return (this.rowOfToken[tokenId] as number) * queryCount
    const row = this.rowCount
    this.rowCount += 1
    if (this.similarities.length < this.rowCount * queryCount) {
      const grown = new Float64Array(this.rowCount * queryCount * 2)
      grown.set(this.similarities)
      this.similarities = grown
    }
    const screens = this.index.tokenScreens
    const listMask = screens.masks[tokenId] as number
    const listLength = screens.lengths[tokenId] as number
    const listKeyId = screens.keyIds[tokenId] as number
    for (let queryIndex = 0; queryIndex < queryCount; queryIndex += 1) {
      const query = this.queryScreens[queryIndex] as QueryTokenScreen
      let similarity = 0
      const quickBound = listMask !== 0 && query.counts !== null && query.tokenId !== tokenId && listLength > 1 && query.length > 1
        && !(query.keyUsable && query.keyId === listKeyId)
      if (!quickBound || jaroWinklerQuickBound(query, listMask, listLength, screens.prefixes[tokenId] as number) >= MIN_TOKEN_SIMILARITY - BOUND_MARGIN) {
        similarity = compareProfiles(this.queryProfiles[queryIndex] as QueryTokenProfile, this.index.tokenProfiles[tokenId] as TokenProfile).similarity
      }
      this.similarities[row * queryCount + queryIndex] = similarity
    }
    this.stamps[tokenId] = this.stamp
    this.rowOfToken[tokenId] = row
    return row * queryCount
  }

  get values(): Float64Array { return this.similarities }

  /** compareNames' `compare` for this query: the prepared profiles, nothing built per pair. */
  readonly compare = (queryIndex: number, listToken: string): TokenComparison => {
    const listProfile = this.index.tokenProfiles[this.index.tokenIds.get(listToken) as number] as TokenProfile
    return compareProfiles(this.queryProfiles[queryIndex] as QueryTokenProfile, listProfile)
  }
}

/** Slack for float rounding: the quick bound never decides a pair within it of the cut-off. */
const BOUND_MARGIN = 1e-9

/** An upper bound on jaroWinkler(query token, list token) from the list token's mask, length and prefix. */
function jaroWinklerQuickBound(query: QueryTokenScreen, listMask: number, listLength: number, listPrefix: number): number {
  const counts = query.counts as Uint8Array
  let absent = 0
  for (let slot = 0; slot < query.bits.length; slot += 1) {
    if ((listMask & (query.bits[slot] as number)) === 0) absent += counts[slot * 2 + 1] as number
  }
  const common = Math.min(query.length - absent, listLength)
  if (common <= 0) return 0
  const jaroBound = (common / query.length + common / listLength + 1) / 3
  let prefix = 0
  const limit = Math.min(4, query.length, listLength)
  while (prefix < limit && ((query.prefix >>> (7 * prefix)) & 0x7f) === ((listPrefix >>> (7 * prefix)) & 0x7f)) prefix += 1
  return jaroBound + prefix * 0.1 * (1 - jaroBound)
}

export function buildScreener(lists: readonly LoadedList[], options: ScreenerOptions = {}): Screener {
  const threshold = options.threshold ?? DEFAULT_THRESHOLD
  const maxCandidates = options.maxCandidates ?? 24
  const maxMatches = options.maxMatches ?? 10
  if (!(threshold > 0 && threshold <= 1) || !(maxCandidates >= 1) || !(maxMatches >= 1)) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `screener options out of range (threshold ${threshold} must be in (0, 1], maxCandidates ${maxCandidates} and maxMatches ${maxMatches} at least 1)`, { threshold, maxCandidates, maxMatches })
  }
  const entries: ListEntry[] = lists.flatMap((list) => list.entries)
  const index = indexNames(entries)
  const listVersions: Record<string, string> = {}
  for (const list of lists) listVersions[list.version.listId] = list.version.version

  const blocker = new Blocker(index, maxCandidates)
  const rows = new SimilarityRows(index)
  const queryTokens = new QueryTokens(index)
  const alignment = new TokenAlignment()
  // The most evidence can add (date of birth exact, country match): a candidate whose name score
  // plus this stays under both the threshold and the best score so far changes nothing.
  const maxEvidence = evidenceAdjustment('exact', 'match')
  const { nameTokenStart, nameTokenIds, nameTokenWeights, nameTokenMissWeights, nameKindFactors, nameEntries } = index

  function screen(query: ScreeningQuery): ScreeningResult {
    const normalised = normaliseName(query.fullName)
    const prepared = prepareTokens(normalised.tokens)
    const queryCount = prepared.tokens.length
    queryTokens.set(prepared)
    const candidates = blocker.candidates(queryTokens, query.types)
    rows.begin(queryTokens)
    // Without a date of birth or a country there is no evidence to look up: the entry is read only for a match.
    const queryDate = parseQueryDate(query.dateOfBirth)
    const evidenceAsked = queryDate !== null || (query.country !== null && query.country !== undefined && query.country !== '')

    let bestByEntry: Map<number, ScreeningMatch> | null = null
    let bestScore = 0
    for (let candidate = 0; candidate < candidates.count; candidate += 1) {
      const nameIndex = candidates.names[candidate] as number
      const tokenStart = nameTokenStart[nameIndex] as number
      const tokenEnd = nameTokenStart[nameIndex + 1] as number
      alignment.reset(queryCount, tokenEnd - tokenStart)
      for (let listIndex = tokenStart; listIndex < tokenEnd; listIndex += 1) {
        const rowStart = rows.rowStart(nameTokenIds[listIndex] as number)
        const similarities = rows.values
        for (let queryIndex = 0; queryIndex < queryCount; queryIndex += 1) {
          const similarity = similarities[rowStart + queryIndex] as number
          if (similarity > 0) alignment.add(queryIndex, listIndex - tokenStart, similarity)
        }
      }
      // No pair alike at all: the score is 0, under any threshold, and bestScore starts at 0.
      if (alignment.size === 0) continue
      const nameScore = alignment.score(nameTokenWeights, nameTokenMissWeights, tokenStart, queryTokens.missWeights) * (nameKindFactors[nameIndex] as number)
      if (nameScore === 0) continue
      const ceiling = nameScore + maxEvidence
      if (ceiling < threshold && ceiling <= bestScore) continue
      const entryIndex = nameEntries[nameIndex] as number
      const dateOfBirth = evidenceAsked ? dateOfBirthEvidence(queryDate, (entries[entryIndex] as ListEntry).datesOfBirth) : 'unknown'
      const country = evidenceAsked ? countryEvidence(query.country, (entries[entryIndex] as ListEntry).countries) : 'unknown'
      const adjustment = evidenceAdjustment(dateOfBirth, country)
      const score = Math.min(1, Math.max(0, nameScore + adjustment))
      if (score > bestScore) bestScore = score
      // Only matches at or above the threshold are returned; building the rest is wasted work.
      if (score < threshold) continue
      bestByEntry ??= new Map()
      const previous = bestByEntry.get(entryIndex)
      if (previous !== undefined && previous.score >= score) continue
      const indexed = index.names[nameIndex] as IndexedName
      const entry = entries[entryIndex] as ListEntry
      // The explanation (aligned pairs, unmatched tokens) is worked out only for what is returned.
      const comparison = compareNames(prepared, indexed.prepared, index.weightOf, rows.compare)
      bestByEntry.set(entryIndex, {
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
    const matches = bestByEntry === null ? [] : [...bestByEntry.values()]
      .sort((left, right) => right.score - left.score || left.listId.localeCompare(right.listId) || left.entryId.localeCompare(right.entryId))
      .slice(0, maxMatches)
    return { matches, bestScore, candidatesScored: candidates.count, threshold }
  }

  return {
    screen,
    threshold,
    listVersions,
    entryCount: entries.length,
    nameCount: index.names.length,
    exactLookup(fullName) {
      return index.exactIndex.get([...normaliseName(fullName).tokens].sort().join(' ')) ?? []
    },
  }
}
