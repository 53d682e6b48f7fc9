/**
 * A labelled evaluation set generated from the lists themselves, deterministically from a seed,
 * and the precision/recall of a screener on it. Used by bench/screening.bench.ts (prints it) and
 * test/screening/evaluation.test.ts (fails when accuracy regresses).
 *
 * True matches: names of listed individuals, each perturbed one way:
 *   typo (a letter substituted, dropped, doubled or two letters swapped, in a token of 5+ letters),
 *   swapped order, transliteration variant (Mohammed/Muhammad, -ov/-off, ou/u, y/i…), missing
 *   middle name, added honorific, or an alias instead of the primary name.
 * Non-matches: common names (first × family names frequent in Europe, the Americas, the Arab
 * world, Russia, Asia), and "hard" names built from a given name of one listed person and the
 * family name of another; any that normalise to a listed name are discarded, since they are not
 * non-matches by name.
 * Each query is scored twice: name only, and with a date of birth (the listed one for a true
 * match when the list gives a full date, a random one in 1950–2000 for a non-match).
 *
 * Example:
 *   const set = generateEvaluationSet([sdn, un], { seed: 7, trueMatches: 600, nonMatches: 600 })
 *   const report = evaluate(screener, set)  // { nameOnly: { precision, recall, … }, withDateOfBirth: { … } }
 */
import { seededRandom } from '../core/seeded-random.js'
import { normaliseName } from './normalise.js'
import type { Screener } from './index.js'
import type { ListEntry, LoadedList } from './types.js'

export const PERTURBATIONS = ['typo', 'swapped-order', 'transliteration', 'missing-middle-name', 'added-honorific', 'alias'] as const
export type Perturbation = (typeof PERTURBATIONS)[number]

export interface EvaluationCase {
  readonly fullName: string
  readonly dateOfBirth: string | null
  /** The entry this name belongs to, or null for a non-match. */
  readonly expected: { readonly listId: string; readonly entryId: string } | null
  readonly kind: Perturbation | 'common-name' | 'mixed-list-names'
}

export const COMMON_GIVEN_NAMES = [
  'John', 'Michael', 'David', 'James', 'Robert', 'Maria', 'Anna', 'Laura', 'Sarah', 'Emma', 'Jose', 'Juan', 'Carlos', 'Luis',
  'Ana', 'Carmen', 'Mohammed', 'Ahmed', 'Ali', 'Omar', 'Fatima', 'Aisha', 'Ivan', 'Sergei', 'Olga', 'Elena', 'Wei', 'Li',
  'Hiroshi', 'Yuki', 'Pierre', 'Marie', 'Hans', 'Giuseppe', 'Priya', 'Rahul', 'Kwame', 'Chinedu', 'Mehmet', 'Ayse',
] as const
export const COMMON_FAMILY_NAMES = [
  'Smith', 'Johnson', 'Brown', 'Williams', 'Jones', 'Garcia', 'Martinez', 'Rodriguez', 'Lopez', 'Gonzalez', 'Hernandez',
  'Silva', 'Santos', 'Ali', 'Khan', 'Hassan', 'Ibrahim', 'Ahmed', 'Ivanov', 'Petrov', 'Smirnov', 'Wang', 'Zhang', 'Chen',
  'Kim', 'Lee', 'Nguyen', 'Tanaka', 'Sato', 'Muller', 'Schmidt', 'Dubois', 'Rossi', 'Patel', 'Singh', 'Okafor', 'Mensah',
  'Yilmaz', 'Kaya', 'Novak',
] as const

const TRANSLITERATION_SWAPS: readonly (readonly [RegExp, string])[] = [
  [/mohammed|mohammad|muhammad|mohamed|muhammed/, 'mohamad'], [/ou/, 'u'], [/oo/, 'u'], [/ee/, 'i'], [/ei/, 'ey'],
  [/ey\b/, 'ei'], [/iy\b/, 'y'], [/y\b/, 'i'], [/ov\b/, 'off'], [/ph/, 'f'], [/kh/, 'h'], [/dj/, 'j'], [/j/, 'dj'],
  [/ss/, 's'], [/u/, 'ou'], [/aa/, 'a'], [/w/, 'v'], [/q/, 'k'], [/yu/, 'iu'], [/ya/, 'ia'], [/c/, 'k'],
]
const HONORIFICS = ['Dr', 'Mr', 'Sheikh', 'Haji', 'Mrs', 'Prof']

export interface GenerateOptions {
  readonly seed: number
  readonly trueMatches: number
  readonly nonMatches: number
}

function pick<T>(random: () => number, values: readonly T[]): T {
  return values[Math.floor(random() * values.length)] as T
}

/** 'HUSSEIN AL-TIKRITI, Saddam' → 'Saddam HUSSEIN AL-TIKRITI': the order a person writes their name in. */
function writtenOrder(full: string): string {
  const comma = full.indexOf(',')
  return comma < 0 ? full : `${full.slice(comma + 1).trim()} ${full.slice(0, comma).trim()}`
}

function typo(random: () => number, word: string): string {
  const position = 1 + Math.floor(random() * (word.length - 2))
  const letters = 'abcdefghijklmnopqrstuvwxyz'
  switch (Math.floor(random() * 4)) {
    case 0: return word.slice(0, position) + pick(random, [...letters]) + word.slice(position + 1)
    case 1: return word.slice(0, position) + word.slice(position + 1)
    case 2: return word.slice(0, position) + (word[position] ?? '') + word.slice(position)
    default: return word.slice(0, position - 1) + (word[position] ?? '') + (word[position - 1] ?? '') + word.slice(position + 1)
  }
}

function perturb(random: () => number, entry: ListEntry, kind: Perturbation): string | null {
  const primary = entry.names.find((name) => name.kind === 'primary')
  if (primary === undefined) return null
  const words = writtenOrder(primary.full).split(/\s+/).filter((word) => word !== '')
  switch (kind) {
    case 'typo': {
      const candidates = words.map((word, index) => ({ word, index })).filter(({ word }) => /^[A-Za-z]{5,}$/.test(word))
      if (candidates.length === 0) return null
      const chosen = pick(random, candidates)
      words[chosen.index] = typo(random, chosen.word.toLowerCase())
      return words.join(' ')
    }
    case 'swapped-order':
      return words.length < 2 ? null : [...words.slice(1), words[0]].join(' ')
    case 'transliteration': {
      const lower = words.join(' ').toLowerCase()
      const applicable = TRANSLITERATION_SWAPS.filter(([pattern]) => pattern.test(lower))
      if (applicable.length === 0) return null
      const [pattern, replacement] = pick(random, applicable)
      return lower.replace(pattern, replacement)
    }
    case 'missing-middle-name':
      return words.length < 3 ? null : [words[0], ...words.slice(2)].join(' ')
    case 'added-honorific':
      return `${pick(random, HONORIFICS)} ${words.join(' ')}`
    case 'alias': {
      const aliases = entry.names.filter((name) => name.kind === 'alias' && /^[\x20-\x7e]+$/.test(name.full))
      return aliases.length === 0 ? null : writtenOrder(pick(random, aliases).full)
    }
  }
}

function fullDate(entry: ListEntry): string | null {
  const date = entry.datesOfBirth.find((candidate) => candidate.day !== null && candidate.month !== null && candidate.fromYear === candidate.toYear)
  if (date === undefined) return null
  return `${date.fromYear}-${String(date.month).padStart(2, '0')}-${String(date.day).padStart(2, '0')}`
}

function randomDate(random: () => number): string {
  const year = 1950 + Math.floor(random() * 51)
  const month = 1 + Math.floor(random() * 12)
  const day = 1 + Math.floor(random() * 28)
  return `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`
}

export function generateEvaluationSet(lists: readonly LoadedList[], options: GenerateOptions): EvaluationCase[] {
  const random = seededRandom(options.seed)
  const individuals = lists.flatMap((list) => list.entries).filter((entry) => entry.type === 'individual' && entry.names.some((name) => name.kind === 'primary' && normaliseName(name.full).tokens.length >= 2))
  const listedNames = new Set(lists.flatMap((list) => list.entries).flatMap((entry) => entry.names.map((name) => [...normaliseName(name.full).tokens].sort().join(' '))))
  const cases: EvaluationCase[] = []
  let attempts = 0
  while (cases.length < options.trueMatches && attempts < options.trueMatches * 20) {
    attempts += 1
    const entry = pick(random, individuals)
    const kind = PERTURBATIONS[cases.length % PERTURBATIONS.length] as Perturbation
    const fullName = perturb(random, entry, kind)
    if (fullName === null) continue
    cases.push({ fullName, dateOfBirth: fullDate(entry), expected: { listId: entry.listId, entryId: entry.entryId }, kind })
  }
  const nonMatches: EvaluationCase[] = []
  attempts = 0
  while (nonMatches.length < options.nonMatches && attempts < options.nonMatches * 20) {
    attempts += 1
    let fullName: string
    let kind: EvaluationCase['kind']
    if (nonMatches.length % 2 === 0) {
      fullName = `${pick(random, COMMON_GIVEN_NAMES)} ${pick(random, COMMON_FAMILY_NAMES)}`
      kind = 'common-name'
    } else {
      const givenFrom = writtenOrder(pick(random, individuals).names[0]?.full ?? '').split(/\s+/)
      const familyFrom = writtenOrder(pick(random, individuals).names[0]?.full ?? '').split(/\s+/)
      fullName = `${givenFrom[0] ?? ''} ${familyFrom.at(-1) ?? ''}`
      kind = 'mixed-list-names'
    }
    const tokens = normaliseName(fullName).tokens
    if (tokens.length < 2 || listedNames.has([...tokens].sort().join(' '))) continue
    nonMatches.push({ fullName, dateOfBirth: randomDate(random), expected: null, kind })
  }
  return [...cases, ...nonMatches]
}

export interface Accuracy {
  readonly threshold: number
  readonly truePositives: number
  readonly falsePositives: number
  readonly falseNegatives: number
  readonly precision: number
  readonly recall: number
  /** Recall per perturbation kind; false-positive rate per non-match kind. */
  readonly byKind: Readonly<Record<string, { readonly cases: number; readonly alerted: number }>>
  readonly missed: readonly EvaluationCase[]
  readonly falseAlerts: readonly { readonly case: EvaluationCase; readonly matchedName: string; readonly score: number }[]
}

/**
 * Query-level accuracy, as an officer sees it: a query alerts when any entry scores at or above
 * the threshold. A true-match query that alerts with its own entry among the matches is a true
 * positive; one that does not is a false negative; any alert on a non-match is a false positive.
 */
export function evaluate(screener: Screener, cases: readonly EvaluationCase[], withDateOfBirth: boolean): Accuracy {
  let truePositives = 0
  let falsePositives = 0
  let falseNegatives = 0
  const byKind: Record<string, { cases: number; alerted: number }> = {}
  const missed: EvaluationCase[] = []
  const falseAlerts: { case: EvaluationCase; matchedName: string; score: number }[] = []
  for (const testCase of cases) {
    const result = screener.screen({ fullName: testCase.fullName, dateOfBirth: withDateOfBirth ? testCase.dateOfBirth : null, types: ['individual'] })
    const tally = byKind[testCase.kind] ?? { cases: 0, alerted: 0 }
    byKind[testCase.kind] = tally
    tally.cases += 1
    if (testCase.expected === null) {
      if (result.matches.length > 0) {
        falsePositives += 1
        tally.alerted += 1
        const first = result.matches[0]
        if (first !== undefined) falseAlerts.push({ case: testCase, matchedName: first.matchedName, score: first.score })
      }
      continue
    }
    const expected = testCase.expected
    if (result.matches.some((match) => match.listId === expected.listId && match.entryId === expected.entryId)) {
      truePositives += 1
      tally.alerted += 1
    } else {
      falseNegatives += 1
      missed.push(testCase)
    }
  }
  return {
    threshold: screener.threshold,
    truePositives,
    falsePositives,
    falseNegatives,
    precision: truePositives + falsePositives === 0 ? 1 : truePositives / (truePositives + falsePositives),
    recall: truePositives + falseNegatives === 0 ? 1 : truePositives / (truePositives + falseNegatives),
    byKind,
    missed,
    falseAlerts,
  }
}
