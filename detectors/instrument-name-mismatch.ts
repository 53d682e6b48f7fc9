/**
 * instrument_name_mismatch: the holder name the payment provider reports for the instrument of
 * a withdrawal or a completed deposit differs from the player's KYC name (catalog 7):
 * third-party funding, a borrowed card, a payout to someone else's account.
 *
 * Names are compared as bags of tokens after normalising case, diacritics (José -> jose,
 * Łukasz -> lukasz, Straße -> strasse), punctuation (O'Brien -> obrien, Mary-Jane -> mary jane)
 * and dropping `ignoredTokens` (titles and name particles: "Mr", "de", "van"...), so the order of
 * the name parts does not matter. Tokens are paired greedily by similarity (1 - Levenshtein
 * distance / longer length; an initial matches a token starting with it when `acceptInitials`);
 * pairs below `minTokenSimilarity` count 0. The name similarity is the Sørensen–Dice score
 * 2 x (sum of pair similarities) / (tokens on both sides), rounded to 3 decimals; a hit when
 * it is below `minSimilarity`.
 *
 * Worked example (minSimilarity 0.75): KYC "John Michael Smith", holder "SMITH JOHN" ->
 * 2 x 2 / 5 = 0.8, no hit; holder "J. M. SMITH" -> 1.0; holder "JANE SMITH" -> jane/john 0.25
 * counts 0, 2 x 1 / 5 = 0.4, hit with value 0.4, threshold 0.75.
 *
 * Every withdrawal request is evaluated (hit or not; "not compared" with value null when either
 * name is unknown); a completed deposit only produces an observation when it is a hit. No state
 * and no window: the names in force are the profile's at the event.
 */
import { defineDetector, type Observation } from './detector.js'

export interface InstrumentNameMismatchParams {
  /** Hit when the name similarity (0..1) is below this. */
  readonly minSimilarity: number
  /** A token pair less similar than this (0..1) counts as no match. */
  readonly minTokenSimilarity: number
  /** "J" matches "John". */
  readonly acceptInitials: boolean
  /** Tokens left out of the comparison after normalising (lower case, no diacritics). */
  readonly ignoredTokens: readonly string[]
}

export type InstrumentNameMismatchState = Readonly<Record<string, never>>

// Letters NFKD does not decompose into a base letter and a mark.
const FOLDED: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', ø: 'o', œ: 'oe', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ħ: 'h' }

/**
 * Name tokens: lower case, diacritics removed, apostrophes joined, any other non-letter or
 * non-digit a separator, ignored tokens dropped.
 * Example: nameTokens("Mr Seán O'Brien-Łukasz", ['mr']) -> ['sean', 'obrien', 'lukasz']
 */
export function nameTokens(name: string, ignoredTokens: readonly string[]): string[] {
  const folded = name
    .toLowerCase()
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/[ßæøœłđðþıħ]/g, (letter) => FOLDED[letter] ?? letter)
    .replace(/['’`ʼ]/g, '')
  return folded.split(/[^\p{L}\p{N}]+/u).filter((token) => token !== '' && !ignoredTokens.includes(token))
}

function levenshtein(left: string, right: string): number {
  let previous = Array.from({ length: right.length + 1 }, (_, index) => index)
  for (let row = 1; row <= left.length; row += 1) {
    const current = [row]
    for (let column = 1; column <= right.length; column += 1) {
      const substitution = (previous[column - 1] as number) + (left[row - 1] === right[column - 1] ? 0 : 1)
      current.push(Math.min((previous[column] as number) + 1, (current[column - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[right.length] as number
}

function tokenSimilarity(left: string, right: string, acceptInitials: boolean): number {
  if (left === right) return 1
  if (acceptInitials && (left.length === 1 || right.length === 1) && left[0] === right[0]) return 1
  return 1 - levenshtein(left, right) / Math.max(left.length, right.length)
}

/**
 * Similarity of two names in 0..1 (see the detector's doc); null when either has no token.
 * Example: nameSimilarity('John Michael Smith', 'SMITH JOHN', params) === 0.8
 */
export function nameSimilarity(kycName: string, holderName: string, params: InstrumentNameMismatchParams): number | null {
  const left = nameTokens(kycName, params.ignoredTokens)
  const right = nameTokens(holderName, params.ignoredTokens)
  if (left.length === 0 || right.length === 0) return null
  // Spacing differences inside a name ("Mac Donald" vs "MACDONALD") are the same name.
  if (left.join('') === right.join('')) return 1
  const pairs: Array<{ left: number; right: number; similarity: number }> = []
  left.forEach((leftToken, leftIndex) => right.forEach((rightToken, rightIndex) => {
    pairs.push({ left: leftIndex, right: rightIndex, similarity: tokenSimilarity(leftToken, rightToken, params.acceptInitials) })
  }))
  // Greedy one-to-one pairing, best pairs first; ties in token order, so the result is deterministic.
  pairs.sort((first, second) => second.similarity - first.similarity || first.left - second.left || first.right - second.right)
  const usedLeft = new Set<number>()
  const usedRight = new Set<number>()
  let matched = 0
  for (const pair of pairs) {
    if (usedLeft.has(pair.left) || usedRight.has(pair.right) || pair.similarity < params.minTokenSimilarity) continue
    usedLeft.add(pair.left)
    usedRight.add(pair.right)
    matched += pair.similarity
  }
  return Math.round(((2 * matched) / (left.length + right.length)) * 1000) / 1000
}

export const instrumentNameMismatch = defineDetector({
  id: 'instrument_name_mismatch',
  version: 1,
  description: 'holder name of the payment instrument differs from the KYC name (token similarity below a threshold)',
  accepts: ['deposit', 'withdrawal'] as const,
  params: {
    type: 'object',
    additionalProperties: false,
    required: ['minSimilarity'],
    properties: {
      minSimilarity: { type: 'number', minimum: 0, maximum: 1 },
      minTokenSimilarity: { type: 'number', minimum: 0, maximum: 1, default: 0.5 },
      acceptInitials: { type: 'boolean', default: true },
      ignoredTokens: { type: 'array', items: { type: 'string', pattern: '^[\\p{Ll}\\p{Lo}\\p{N}]+$' }, maxItems: 100, default: [] },
    },
  },
  init: (): InstrumentNameMismatchState => ({}),
  step(state: InstrumentNameMismatchState, event, params: InstrumentNameMismatchParams, context) {
    const isRequest = event.kind === 'withdrawal' && event.type === 'REQUESTED'
    if (!isRequest && !(event.kind === 'deposit' && event.status === 'COMPLETED')) return { state, observation: null }
    const { firstName, lastName } = context.profile
    const kycName = [firstName, lastName].filter((part): part is string => part !== null).join(' ')
    const holderName = event.instrument.holderName
    const similarity = holderName === null || kycName === '' ? null : nameSimilarity(kycName, holderName, params)
    const hit = similarity !== null && similarity < params.minSimilarity
    if (!isRequest && !hit) return { state, observation: null }
    const observation: Observation = {
      hit,
      value: similarity,
      threshold: params.minSimilarity,
      detail: similarity === null
        ? `not compared: ${holderName === null ? 'no holder name on the instrument' : 'no KYC name'}`
        // The names themselves stay out of the detail: decisions travel to the payout service and
        // into ClickHouse, and an officer reads them from the player's record.
        : `instrument holder name vs KYC name: similarity ${similarity}, minimum ${params.minSimilarity}`,
      evidenceEventIds: [event.eventId],
      windowStartMs: null,
      windowEndMs: null,
    }
    return { state, observation }
  },
})
