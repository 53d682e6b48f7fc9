/**
 * A phonetic key for transliterated names: a consonant skeleton in the spirit of Metaphone,
 * simplified and tuned for names that reach the lists through transliteration (Arabic, Persian,
 * Russian), where vowels and doubled letters vary freely. Two spellings with the same key are
 * treated as sounding alike (e.g. Mohammed / Muhammad / Mohamad, Hussein / Husayn, Yusuf / Yousef).
 * No phonetics library is installed; `talisman` (Double Metaphone) would be the package to add.
 *
 * Rules, applied to a lower-case ASCII token:
 *   - doubled letters count once (saddam → sadam);
 *   - the first letter is kept, a vowel (or y) first becomes 'a';
 *   - later vowels (a e i o u y) are dropped;
 *   - digraphs: ph → f, sh / sch / ch → x, kh → k, gh → k, zh → j, dj → j, th → t, dh → t, ts / tz → s;
 *   - c → s before e/i/y, else k; g → j before e/i/y, else k; q → k; x → ks; z → s; v → f; d → t;
 *   - h is dropped after a vowel when no vowel follows (mahmoud, ahmed, shah), kept otherwise (mohammed, mhmd);
 *   - w is kept first in a word or before a vowel.
 *
 * Example: phoneticKey('mohammed') === phoneticKey('muhammad') === 'mhmt'; phoneticKey('mahmoud') === 'mt'
 */
const VOWELS = new Set(['a', 'e', 'i', 'o', 'u', 'y'])

export function phoneticKey(token: string): string {
  // Doubled letters count once.
  let word = ''
  let last = ''
  for (let index = 0; index < token.length; index += 1) {
    const character = token[index] as string
    if (character !== last && character >= 'a' && character <= 'z') word += character
    last = character
  }
  if (word === '') return token
  let key = ''
  let lastCode = ''
  let index = 0
  const first = word[0] as string
  if (VOWELS.has(first)) {
    key = 'a'
    lastCode = 'a'
    index = 1
  }
  while (index < word.length) {
    const character = word[index] as string
    const next = word[index + 1] ?? ''
    const nextIsVowel = VOWELS.has(next)
    let code = ''
    let advance = 1
    switch (character) {
      case 'a': case 'e': case 'i': case 'o': case 'u': case 'y':
        break
      case 'p': if (next === 'h') { code = 'f'; advance = 2 } else code = 'p'; break
      case 's':
        if (next === 'h') { code = 'x'; advance = 2 } else if (next === 'c' && word[index + 2] === 'h') { code = 'x'; advance = 3 } else code = 's'
        break
      case 'c':
        if (next === 'h') { code = 'x'; advance = 2 } else code = next === 'e' || next === 'i' || next === 'y' ? 's' : 'k'
        break
      case 'k': if (next === 'h') { code = 'k'; advance = 2 } else code = 'k'; break
      case 'g':
        if (next === 'h') { code = 'k'; advance = 2 } else code = next === 'e' || next === 'i' || next === 'y' ? 'j' : 'k'
        break
      case 'z': if (next === 'h') { code = 'j'; advance = 2 } else code = 's'; break
      case 'd':
        if (next === 'j') { code = 'j'; advance = 2 } else if (next === 'h') { code = 't'; advance = 2 } else code = 't'
        break
      case 't':
        if (next === 'h') { code = 't'; advance = 2 } else if (next === 's' || next === 'z') { code = 's'; advance = 2 } else code = 't'
        break
      case 'h': {
        const previous = index === 0 ? '' : (word[index - 1] as string)
        // Silent only after a vowel and before a consonant or the end ('shah', 'ahmed'); vowel-less
        // transliterations from Arabic script keep it ('mhmd' → mhmt, like 'mohammed').
        if (!(VOWELS.has(previous) && !nextIsVowel)) code = 'h'
        break
      }
      case 'w': if (nextIsVowel || index === 0) code = 'w'; break
      case 'q': code = 'k'; break
      case 'x': code = 'ks'; break
      case 'v': code = 'f'; break
      default: code = character
    }
    // Two letters that map to the same sound next to each other count once (ck, tt after mapping).
    if (code !== '' && lastCode !== code) {
      key += code
      lastCode = code
    }
    index += advance
  }
  return key === '' ? first : key
}
