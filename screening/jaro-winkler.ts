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
