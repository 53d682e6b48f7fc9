/**
 * Jaro-Winkler similarity (Winkler 1990), 0..1, on UTF-16 code units (names reach here already
 * normalised to ASCII). Prefix scale 0.1 over at most 4 characters, applied when the Jaro
 * similarity exceeds 0.7, as in Winkler's definition.
 *
 * Written here because no string-distance library is installed (fast-levenshtein is, but edit
 * distance ignores transpositions and prefixes, which is what JW is for); `talisman` or
 * `natural` would be the well-kept packages to add.
 *
 * Example: jaroWinkler('martha', 'marhta') ≈ 0.961; jaroWinkler('dixon', 'dicksonx') ≈ 0.813
 */
let firstMatched = new Uint8Array(64)
let secondMatched = new Uint8Array(64)

export function jaro(first: string, second: string): number {
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

export function jaroWinkler(first: string, second: string, prefixScale = 0.1): number {
  const similarity = jaro(first, second)
  if (similarity <= 0.7) return similarity
  let prefix = 0
  const limit = Math.min(4, first.length, second.length)
  while (prefix < limit && first.charCodeAt(prefix) === second.charCodeAt(prefix)) prefix += 1
  return similarity + prefix * prefixScale * (1 - similarity)
}

const countTable = new Uint16Array(128)

/**
 * A string's characters for commonCharacterCount: its distinct character codes in ascending order,
 * each followed by how often it occurs ([code, count, code, count, …]). Null when a character is
 * beyond ASCII or occurs more than 255 times (no bound is taken then; Jaro is computed).
 *
 * Example: characterCounts('anna') → [97, 2, 110, 2]
 */
export function characterCounts(text: string): Uint8Array | null {
  let distinct = 0
  let countable = true
  let counted = 0
  for (; counted < text.length; counted += 1) {
    const code = text.charCodeAt(counted)
    if (code >= 128) { countable = false; break }
    if (countTable[code] === 0) distinct += 1
    countTable[code] = (countTable[code] as number) + 1
  }
  let counts: Uint8Array | null = null
  if (countable) {
    counts = new Uint8Array(distinct * 2)
    let slot = 0
    for (let code = 0; code < 128 && counts !== null; code += 1) {
      const count = countTable[code] as number
      if (count === 0) continue
      if (count > 255) counts = null
      else {
        counts[slot] = code
        counts[slot + 1] = count
        slot += 2
      }
    }
  }
  // Leave the table zeroed for the next call.
  for (let index = 0; index < counted; index += 1) countTable[text.charCodeAt(index)] = 0
  return counts
}

/**
 * The counts of characterCounts spread over a table indexed by character code (128 entries), for
 * the side that is compared with many others (a query token). `into` must be all zeros.
 *
 * Example: characterTable(characterCounts('anna'))[97] === 2
 */
export function characterTable(counts: Uint8Array, into: Uint8Array = new Uint8Array(128)): Uint8Array {
  for (let slot = 0; slot < counts.length; slot += 2) into[counts[slot] as number] = counts[slot + 1] as number
  return into
}

/**
 * How many characters two strings have in common, position aside (Σ over characters of the
 * smaller count): Jaro's matched characters are at most this many, whatever the window.
 * One string as a characterTable, the other as characterCounts.
 *
 * Example: commonCharacterCount(characterTable(characterCounts('hussein')), characterCounts('husayn')) === 4 (h, u, s, n)
 */
export function commonCharacterCount(table: Uint8Array, counts: Uint8Array): number {
  let common = 0
  for (let slot = 0; slot < counts.length; slot += 2) common += Math.min(counts[slot + 1] as number, table[counts[slot] as number] as number)
  return common
}

/**
 * An upper bound on jaroWinkler(first, second) given their common character count: Jaro with
 * every common character matched and none transposed, plus Winkler's boost for the actual common
 * prefix. Cheap next to Jaro's window search; used to skip pairs that cannot reach a cut-off.
 *
 * Example: jaroWinklerUpperBound('hussein', 'mohammed', 2) ≈ 0.51 (2 characters in common, no common prefix)
 */
export function jaroWinklerUpperBound(first: string, second: string, common: number, prefixScale = 0.1): number {
  if (common === 0 || first.length === 0 || second.length === 0) return 0
  const jaroBound = (common / first.length + common / second.length + 1) / 3
  let prefix = 0
  const limit = Math.min(4, first.length, second.length)
  while (prefix < limit && first.charCodeAt(prefix) === second.charCodeAt(prefix)) prefix += 1
  return jaroBound + prefix * prefixScale * (1 - jaroBound)
}
