/**
 * Differential test for issue 10's speed-up of screen(): the product screener and the plain one
 * it replaced (reference-screen.ts) must answer every query identically: same matches, same
 * scores bit for bit (Object.is on every number), same order, same explanations. The queries are
 * list names as written, perturbed list names (typos, dropped, doubled, swapped and joined tokens,
 * initials, transliteration swaps, honorifics, Cyrillic spelling), the evaluation set's cases,
 * common and random names, with and without date of birth, country and type filter, under the
 * default options and under options that make ties and truncation frequent; and the screen
 * function with `exclude` sets.
 */
import { isDeepStrictEqual } from 'node:util'
import { beforeAll, describe, expect, it } from 'vitest'
import type { ScreenFunction } from '../../detectors/detector.js'
import { seededRandom } from '../../core/seeded-random.js'
import { COMMON_FAMILY_NAMES, COMMON_GIVEN_NAMES, generateEvaluationSet } from '../../screening/evaluation.js'
import { buildScreener, type Screener, type ScreenerOptions, type ScreeningQuery } from '../../screening/index.js'
import { parseWatchlistCsv } from '../../screening/loaders/watchlist.js'
import { toScreenFunction } from '../../screening/screen-function.js'
import type { ListEntry, LoadedList } from '../../screening/types.js'
import { loadConsolidated, loadSdn, loadUn } from './lists.js'
import { buildReferenceScreener } from './reference-screen.js'

type Random = () => number
const pick = <T>(random: Random, values: readonly T[]): T => values[Math.floor(random() * values.length)] as T
const LETTERS = 'abcdefghijklmnopqrstuvwxyz'
const LATIN_TO_CYRILLIC: Readonly<Record<string, string>> = {
  a: 'а', b: 'б', v: 'в', g: 'г', d: 'д', e: 'е', z: 'з', i: 'и', y: 'й', k: 'к', l: 'л', m: 'м', n: 'н', o: 'о', p: 'п',
  r: 'р', s: 'с', t: 'т', u: 'у', f: 'ф', h: 'х', c: 'ц', w: 'в', j: 'ж', q: 'к', x: 'кс',
}

/** One way of getting a listed name slightly wrong; the reference and the product must agree whatever comes out. */
function perturb(random: Random, name: string): string {
  const words = name.replace(',', ' ').split(/\s+/).filter((word) => word !== '')
  const at = Math.floor(random() * words.length)
  const word = words[at] ?? ''
  const position = Math.floor(random() * Math.max(1, word.length))
  switch (Math.floor(random() * 12)) {
    case 0: words[at] = word.slice(0, position) + pick(random, [...LETTERS]) + word.slice(position + 1); break
    case 1: words[at] = word.slice(0, position) + word.slice(position + 1); break
    case 2: words[at] = word.slice(0, position) + pick(random, [...LETTERS]) + word.slice(position); break
    case 3: words[at] = word.slice(0, position) + (word[position + 1] ?? '') + (word[position] ?? '') + word.slice(position + 2); break
    case 4: words.splice(at, 1); break
    case 5: words.push(word); break
    case 6: words.reverse(); break
    case 7: if (at + 1 < words.length) words.splice(at, 2, word + (words[at + 1] ?? '')); break
    case 8: words[at] = word.slice(0, 1); break
    case 9: words.unshift(pick(random, ['Dr.', 'Sheikh', 'Mr', 'Haji', 'al'])); break
    case 10: return [...name.toLowerCase()].map((letter) => LATIN_TO_CYRILLIC[letter] ?? letter).join('')
    default: words[at] = word.toLowerCase().replace(/ou|ee|y|ph|kh|u|c/, (found) => ({ ou: 'u', ee: 'i', y: 'i', ph: 'f', kh: 'h', u: 'ou', c: 'k' })[found] ?? found)
  }
  return words.join(' ')
}

function randomWord(random: Random): string {
  const syllables = ['ka', 'ro', 'mi', 'sha', 'den', 'lu', 'vo', 'tri', 'an', 'el', 'mo', 'ham', 'ed', 'ser', 'gei', 'ova', 'ich']
  return Array.from({ length: 1 + Math.floor(random() * 3) }, () => pick(random, syllables)).join('')
}

function randomDate(random: Random): string {
  return `${1930 + Math.floor(random() * 70)}-${String(1 + Math.floor(random() * 12)).padStart(2, '0')}-${String(1 + Math.floor(random() * 28)).padStart(2, '0')}`
}

/** About `count` names: listed names as written, perturbed ones, evaluation cases, common and random names, and edge cases. */
function generateNames(lists: readonly LoadedList[], count: number, seed: number): string[] {
  const random = seededRandom(seed)
  const entries: ListEntry[] = lists.flatMap((list) => list.entries)
  const names: string[] = ['', '   ', 'A', 'Al', 'Mohammed', 'Mohammed Ali', 'mohammed mohammed mohammed', 'J. Smith', 'S.A.', 'Sheikh', '李小龍', 'Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali Ali']
  const evaluation = generateEvaluationSet(lists, { seed, trueMatches: Math.floor(count / 5), nonMatches: Math.floor(count / 10) })
  names.push(...evaluation.map((testCase) => testCase.fullName))
  while (names.length < count) {
    const entry = pick(random, entries)
    const listed = pick(random, entry.names).full
    const roll = random()
    if (roll < 0.2) names.push(listed)
    else if (roll < 0.75) names.push(perturb(random, roll < 0.6 ? listed : perturb(random, listed)))
    else if (roll < 0.85) names.push(`${pick(random, COMMON_GIVEN_NAMES)} ${pick(random, COMMON_FAMILY_NAMES)}`)
    else names.push(Array.from({ length: 1 + Math.floor(random() * 3) }, () => randomWord(random)).join(' '))
  }
  return names
}

/** Queries for one name: name only, or with some of date of birth (listed or random), country and types. */
function queriesFor(random: Random, fullName: string, entry: ListEntry | undefined): ScreeningQuery[] {
  const listedDate = entry?.datesOfBirth[0]
  const dateOfBirth = listedDate !== undefined && random() < 0.5
    ? `${listedDate.fromYear}-${String(listedDate.month ?? 1).padStart(2, '0')}-${String(listedDate.day ?? 1).padStart(2, '0')}`
    : random() < 0.2 ? String(1930 + Math.floor(random() * 70)) : randomDate(random)
  const country = entry?.countries[0] !== undefined && random() < 0.5 ? entry.countries[0] : pick(random, ['IQ', 'RU', 'mt', 'GB', 'SY', ''])
  const types = pick(random, [undefined, ['individual'], ['entity', 'vessel'], []] as const)
  return [{ fullName }, { fullName, dateOfBirth, country, types }]
}

interface Mismatch { readonly query: unknown; readonly reference: unknown; readonly product: unknown }

/** Queries on which the two screeners disagree, and how many had matches (a comparison of empty answers proves little). */
function differences(reference: Screener, product: Screener, queries: readonly ScreeningQuery[]): { mismatches: Mismatch[]; matched: number; candidateCounts: Set<number> } {
  const mismatches: Mismatch[] = []
  const candidateCounts = new Set<number>()
  let matched = 0
  for (const query of queries) {
    const expected = reference.screen(query)
    const actual = product.screen(query)
    if (expected.matches.length > 0) matched += 1
    candidateCounts.add(expected.candidatesScored)
    // isDeepStrictEqual compares numbers with Object.is: bit-for-bit, -0 apart from 0.
    if (!isDeepStrictEqual(actual, expected)) mismatches.push({ query, reference: expected, product: actual })
  }
  return { mismatches, matched, candidateCounts }
}

describe('screen() against the reference screener', () => {
  let lists: LoadedList[]
  let names: string[]
  let queries: ScreeningQuery[]
  beforeAll(async () => {
    lists = await Promise.all([loadSdn(), loadUn(), loadConsolidated()])
    names = generateNames(lists, 3000, 23)
    const random = seededRandom(29)
    const byName = new Map<string, ListEntry>()
    for (const entry of lists.flatMap((list) => list.entries)) for (const name of entry.names) byName.set(name.full, entry)
    queries = names.flatMap((fullName) => queriesFor(random, fullName, byName.get(fullName)))
  }, 60_000)

  const optionSets: readonly { readonly name: string; readonly options: ScreenerOptions; readonly share: number }[] = [
    { name: 'default options', options: {}, share: 1 },
    // A low threshold returns many matches per query (ordering, maxMatches, per-entry best name), few candidates make the cut and its ties decide.
    { name: 'threshold 0.5, 3 candidates, 4 matches', options: { threshold: 0.5, maxCandidates: 3, maxMatches: 4 }, share: 0.25 },
    { name: 'threshold 0.6, 1 candidate', options: { threshold: 0.6, maxCandidates: 1 }, share: 0.25 },
    { name: 'threshold 0.7, 200 candidates, 50 matches', options: { threshold: 0.7, maxCandidates: 200, maxMatches: 50 }, share: 0.1 },
  ]
  for (const { name, options, share } of optionSets) {
    it(`answers identically on SDN + UN + consolidated, ${name}`, () => {
      const reference = buildReferenceScreener(lists, options)
      const product = buildScreener(lists, options)
      const sample = queries.filter((_, index) => index % Math.round(1 / share) === 0)
      const { mismatches, matched, candidateCounts } = differences(reference, product, sample)
      expect(mismatches.slice(0, 3)).toEqual([])
      // The comparison must have had something to compare: many queries with matches, and both
      // queries whose blocked names were cut to maxCandidates and queries with fewer.
      expect(matched).toBeGreaterThan(sample.length / 10)
      expect(candidateCounts.has(options.maxCandidates ?? 24)).toBe(true)
      expect(candidateCounts.size).toBeGreaterThan(1)
    }, 120_000)
  }

  it('answers identically when the same list is indexed twice (equal ids on two entries, equal scores)', () => {
    const sdn = lists[0] as LoadedList
    const twice = [sdn, sdn]
    const sample = queries.filter((_, index) => index % 10 === 0)
    expect(differences(buildReferenceScreener(twice), buildScreener(twice), sample).mismatches.slice(0, 3)).toEqual([])
  }, 60_000)

  it('answers identically on a small watchlist, where unknown tokens and ties are the rule', () => {
    const watchlist = parseWatchlistCsv('w', [
      'entry_id,type,full_name,aliases,weak_aliases,dates_of_birth,countries',
      '1,individual,Jonathan Doe,John Doe|J. Doe,Johnny,1970-01-02,GB',
      '2,individual,Jon Doe,,,1971,MT',
      '3,individual,Maria Ivanovna Petrova,Мария Петрова,,circa 1960,RU',
      '4,entity,Doe Holdings Ltd,,,,"CY"',
      '5,individual,Doe John,,,,',
    ].join('\n'))
    const random = seededRandom(31)
    const sample = ['John Doe', 'Doe', 'J Doe', 'Jon', 'Maria Petrova', 'Petrova Maria Ivanovna', 'Doe Holdings', 'Xavier Quux', 'Johnathan Do']
      .flatMap((fullName) => [fullName, perturb(random, fullName)])
      .flatMap((fullName) => queriesFor(random, fullName, undefined))
    expect(differences(buildReferenceScreener([watchlist], { threshold: 0.3 }), buildScreener([watchlist], { threshold: 0.3 }), sample).mismatches).toEqual([])
  })

  it('gives the screen function the same answers with exclude sets', () => {
    const reference: ScreenFunction = toScreenFunction(buildReferenceScreener(lists))
    const product: ScreenFunction = toScreenFunction(buildScreener(lists))
    const random = seededRandom(37)
    const mismatches: Mismatch[] = []
    let excludedSome = 0
    for (const fullName of names.filter((_, index) => index % 3 === 0)) {
      const query = { fullName, dateOfBirth: random() < 0.5 ? null : randomDate(random), country: random() < 0.5 ? null : pick(random, ['IQ', 'RU', 'SY']) }
      const first = reference(query)
      // Exclude the best entry, sometimes with another one, sometimes one that did not match.
      const exclude = new Set<string>()
      if (first.best !== null) exclude.add(`${first.best.listId}:${first.best.entryId}`)
      if (random() < 0.3) exclude.add(`ofac-sdn:${Math.floor(random() * 20_000)}`)
      for (const excluding of [{ ...query, exclude }, { ...query, exclude: new Set<string>() }]) {
        const expected = reference(excluding)
        if ((expected.excludedMatches ?? 0) > 0) excludedSome += 1
        const actual = product(excluding)
        if (!isDeepStrictEqual(actual, expected)) mismatches.push({ query: { ...excluding, exclude: [...excluding.exclude] }, reference: expected, product: actual })
      }
    }
    expect(mismatches.slice(0, 3)).toEqual([])
    expect(excludedSome).toBeGreaterThan(50)
  }, 60_000)
})
