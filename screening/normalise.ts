/**
 * Name normalisation for screening: one function turns any written form of a name into the
 * lower-case ASCII tokens the matcher compares.
 *
 *   1. Transliterate Cyrillic, Greek and Arabic (incl. Persian letters) to Latin with the tables
 *      below, then strip diacritics (NFD, drop combining marks) and fold the Latin letters NFD
 *      does not decompose (ß, æ, ø, ł, đ, þ, ı…).
 *   2. Drop apostrophes (O'Brien → obrien, 'Abd → abd), join dotted initialisms (S.A. → sa),
 *      and split on everything else that is not a letter or digit.
 *   3. Drop honorifics (mr, dr, sheikh, haji…), company forms (ltd, llc, gmbh, co, sa…) and name
 *      particles (al, el, bin, de, van…), unless that would leave nothing.
 * No npm transliteration library is installed here; `transliteration` or `any-ascii` would cover
 * more scripts (CJK, Hebrew, Devanagari) if added.
 *
 * The tables are practical romanisations, not any single standard: Cyrillic follows BGN/PCGN
 * (х → kh, ц → ts, щ → shch, й → y), Greek follows ELOT 743 without diphthong rules, Arabic
 * follows the simplified English press style (no vowel marks; ح → h, خ → kh, ع dropped,
 * و/ي → w/y at the start of a word and u/i inside it, ال → al-). Arabic script omits short vowels,
 * so 'صدام' becomes 'sdam', not 'saddam': the phonetic key (phonetic.ts) ignores vowels, which is
 * what lets the two meet.
 *
 * Example:
 *   normaliseName('Dr. Умаров Доку Хаматович').tokens // ['umarov', 'doku', 'khamatovich']
 *   normaliseName('ANGLO-CARIBBEAN CO., LTD.').tokens // ['anglo', 'caribbean']
 *   normaliseName('صدام حسين التكريتي').tokens        // ['sdam', 'hsin', 'tkriti']
 */

export const CYRILLIC_TO_LATIN: Readonly<Record<string, string>> = {
  а: 'a', б: 'b', в: 'v', г: 'g', д: 'd', е: 'e', ё: 'e', ж: 'zh', з: 'z', и: 'i', й: 'y', к: 'k', л: 'l', м: 'm',
  н: 'n', о: 'o', п: 'p', р: 'r', с: 's', т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch',
  ъ: '', ы: 'y', ь: '', э: 'e', ю: 'yu', я: 'ya',
  // Ukrainian, Belarusian, Serbian, Macedonian
  і: 'i', ї: 'yi', є: 'ye', ґ: 'g', ў: 'u', ђ: 'dj', ј: 'j', љ: 'lj', њ: 'nj', ћ: 'c', џ: 'dz', ѓ: 'gj', ќ: 'kj', ѕ: 'dz',
}

export const GREEK_TO_LATIN: Readonly<Record<string, string>> = {
  α: 'a', β: 'v', γ: 'g', δ: 'd', ε: 'e', ζ: 'z', η: 'i', θ: 'th', ι: 'i', κ: 'k', λ: 'l', μ: 'm', ν: 'n', ξ: 'x',
  ο: 'o', π: 'p', ρ: 'r', σ: 's', ς: 's', τ: 't', υ: 'y', φ: 'f', χ: 'ch', ψ: 'ps', ω: 'o',
}

export const ARABIC_TO_LATIN: Readonly<Record<string, string>> = {
  ا: 'a', أ: 'a', إ: 'i', آ: 'a', ٱ: 'a', ب: 'b', ت: 't', ث: 'th', ج: 'j', ح: 'h', خ: 'kh', د: 'd', ذ: 'dh', ر: 'r',
  ز: 'z', س: 's', ش: 'sh', ص: 's', ض: 'd', ط: 't', ظ: 'z', ع: '', غ: 'gh', ف: 'f', ق: 'q', ك: 'k', ل: 'l', م: 'm',
  ن: 'n', ه: 'h', ة: 'a', ى: 'a', ء: '', ئ: '', ؤ: '', و: 'u', ي: 'i',
  // Persian and Urdu letters
  پ: 'p', چ: 'ch', ژ: 'zh', گ: 'g', ک: 'k', ی: 'i', ۀ: 'a', ہ: 'h', ے: 'e',
}

/** Arabic letters written as consonants at the start of a word (و → w, ي → y) rather than as long vowels. */
const ARABIC_WORD_INITIAL: Readonly<Record<string, string>> = { و: 'w', ي: 'y', ی: 'y' }

/** Latin letters NFD leaves whole. */
const LATIN_FOLDS: Readonly<Record<string, string>> = {
  ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd', ð: 'd', þ: 'th', ı: 'i', ŀ: 'l', ƒ: 'f', ħ: 'h', ŧ: 't',
}

const TRANSLITERATION: ReadonlyMap<string, string> = new Map(
  [CYRILLIC_TO_LATIN, GREEK_TO_LATIN, ARABIC_TO_LATIN, LATIN_FOLDS].flatMap((table) => Object.entries(table)),
)

const APOSTROPHES = /['’‘`´ʻʼʿʾ]/g
/** Printable ASCII only (space to tilde): nothing to transliterate. */
const PRINTABLE_ASCII_ONLY = /^[ -~]*$/
const LETTER = /\p{L}/u
const MARK = /\p{M}/u

/** Transliterates and strips diacritics; everything else (spaces, punctuation) passes through. */
export function transliterate(text: string): string {
  // Most list and player names are plain ASCII: nothing to map.
  if (PRINTABLE_ASCII_ONLY.test(text)) return text.toLowerCase()
  // The Arabic article is written joined to its word; split it off so it can be dropped like 'al-'.
  const lowered = text.normalize('NFC').toLowerCase()
    .replace(/(^|[^\p{L}])ال(?=\p{L})/gu, '$1al-')
    .replace(/ο[υύ]/g, 'ou') // Greek ου is one vowel, 'ou'
  let output = ''
  let previousIsLetter = false
  for (const character of lowered) {
    const wordInitial = !previousIsLetter ? ARABIC_WORD_INITIAL[character] : undefined
    const mapped = wordInitial ?? TRANSLITERATION.get(character)
    if (mapped !== undefined) output += mapped
    else if (character.charCodeAt(0) < 0x80) output += character
    else {
      // Precomposed letters (é, ά, ё written with a combining mark): decompose, drop the marks, map the base.
      for (const base of character.normalize('NFD')) {
        if (MARK.test(base)) continue
        output += TRANSLITERATION.get(base) ?? base
      }
    }
    previousIsLetter = LETTER.test(character)
  }
  return output
}

export const HONORIFICS: ReadonlySet<string> = new Set([
  'mr', 'mrs', 'ms', 'miss', 'mx', 'dr', 'doctor', 'prof', 'professor', 'sir', 'dame', 'lord', 'lady', 'madam', 'madame',
  'sheikh', 'shaikh', 'shaykh', 'sheik', 'cheikh', 'haji', 'hajji', 'hadji', 'hajj', 'alhaji', 'alhaj', 'mullah', 'mulla',
  'maulana', 'mawlana', 'maulvi', 'mawlawi', 'mufti', 'imam', 'ayatollah', 'hojatoleslam',
  'general', 'gen', 'colonel', 'col', 'major', 'maj', 'captain', 'capt', 'lieutenant', 'lt', 'brigadier', 'admiral', 'commander',
  'president', 'minister', 'excellency', 'hon', 'honourable', 'honorable', 'rev', 'reverend', 'fr', 'engineer', 'eng', 'ing',
  'jr', 'junior', 'sr', 'senior', 'ii', 'iii',
])

export const COMPANY_FORMS: ReadonlySet<string> = new Set([
  'ltd', 'limited', 'llc', 'inc', 'incorporated', 'corp', 'corporation', 'co', 'company', 'cie', 'gmbh', 'mbh', 'ag', 'kg',
  'sa', 'sas', 'sarl', 'srl', 'sro', 'spa', 'sl', 'bv', 'nv', 'plc', 'llp', 'lp', 'oy', 'oyj', 'ab', 'asa', 'aps',
  'pte', 'pty', 'pvt', 'jsc', 'ojsc', 'cjsc', 'pjsc', 'ooo', 'zao', 'oao', 'pao', 'tov', 'fze', 'fzco', 'fzc', 'fzllc',
  'bhd', 'sdn', 'tbk', 'kk', 'sal', 'sae', 'wll', 'cv', 'est', 'establishment',
])

/** Articles and connectors that come and go between spellings of the same name. */
export const PARTICLES: ReadonlySet<string> = new Set([
  'al', 'el', 'ul', 'bin', 'ibn', 'bint', 'ben', 'de', 'da', 'di', 'del', 'della', 'der', 'den', 'du', 'dos', 'das',
  'la', 'le', 'van', 'von', 'y', 'and', 'of', 'the',
])

export type DroppedKind = 'honorific' | 'company-form' | 'particle'

export interface NormalisedName {
  /** Tokens that identify the name, in written order. */
  readonly tokens: readonly string[]
  /** What normalisation removed, for the explanation of a match. */
  readonly dropped: readonly { readonly token: string; readonly kind: DroppedKind }[]
}

const INITIALISM = /^([a-z0-9]\.)+[a-z0-9]?\.?$/
const SEPARATORS = /[^a-z0-9.]+/

function splitTokens(text: string): string[] {
  const tokens: string[] = []
  for (const raw of text.replace(APOSTROPHES, '').split(SEPARATORS)) {
    if (raw === '') continue
    if (!raw.includes('.')) tokens.push(raw)
    // 's.a.' and 'c.v' are one initialism; 'co.' and 'j.smith' are words separated by a dot.
    else if (INITIALISM.test(raw)) tokens.push(raw.replaceAll('.', ''))
    else for (const part of raw.split('.')) if (part !== '') tokens.push(part)
  }
  return tokens
}

export function normaliseName(text: string): NormalisedName {
  const all = splitTokens(transliterate(text))
  const dropped: { token: string; kind: DroppedKind }[] = []
  const kept: string[] = []
  for (const token of all) {
    const kind: DroppedKind | null = HONORIFICS.has(token) ? 'honorific' : COMPANY_FORMS.has(token) ? 'company-form' : PARTICLES.has(token) ? 'particle' : null
    if (kind === null) kept.push(token)
    else dropped.push({ token, kind })
  }
  // 'Al Co' or 'Sheikh' alone: dropping would leave nothing to match, so keep what was written.
  if (kept.length === 0) return { tokens: all, dropped: [] }
  return { tokens: kept, dropped }
}
