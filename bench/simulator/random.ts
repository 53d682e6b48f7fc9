/**
 * The simulator's seeded randomness: mulberry32 behind a few distributions casinos need
 * (heavy-tailed amounts, weighted picks). No `Math.random()`: a run is a function of its seed.
 * `fork(label)` derives an independent stream, so adding a player or a typology does not shift
 * the draws of the others.
 *
 * Example: const random = new SeededRandom(7); random.logNormal(Math.log(30_00), 1) -> ~30.00 EUR median
 */

/** FNV-1a over the text, mixed with the seed: a stable 32-bit sub-seed for `fork`. */
function mixSeed(seed: number, label: string): number {
  let hash = (0x811c9dc5 ^ seed) >>> 0
  for (let index = 0; index < label.length; index += 1) {
    hash ^= label.charCodeAt(index)
    hash = Math.imul(hash, 0x01000193) >>> 0
  }
  return hash
}

export class SeededRandom {
  private state: number

  constructor(private readonly seed: number) {
    this.state = seed >>> 0
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0
    let value = this.state
    value = Math.imul(value ^ (value >>> 15), value | 1)
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61)
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296
  }

  /** An independent stream named by `label` (the same seed and label give the same stream). */
  fork(label: string): SeededRandom {
    return new SeededRandom(mixSeed(this.seed, label))
  }

  /** Integer in [min, max], both included. */
  integer(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1))
  }

  chance(probability: number): boolean {
    return this.next() < probability
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T
  }

  /** Pick by weight: `weighted([['SLOT', 70], ['SPORTS', 30]])`. */
  weighted<T>(choices: ReadonlyArray<readonly [T, number]>): T {
    const total = choices.reduce((sum, [, weight]) => sum + weight, 0)
    let target = this.next() * total
    for (const [choice, weight] of choices) {
      target -= weight
      if (target < 0) return choice
    }
    return (choices[choices.length - 1] as readonly [T, number])[0]
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    const u = 1 - this.next()
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next())
  }

  /** Log-normal with the given log-median and log-spread: deposit and stake sizes. */
  logNormal(logMedian: number, logSpread: number): number {
    return Math.exp(logMedian + logSpread * this.normal())
  }

  /** Pareto with scale `minimum` and shape `alpha` (mean alpha*minimum/(alpha-1)): win multipliers, whales. */
  pareto(minimum: number, alpha: number): number {
    return minimum / Math.pow(1 - this.next(), 1 / alpha)
  }

  /** Lowercase hex of `length` characters: fingerprints, tokens. */
  hex(length: number): string {
    let text = ''
    while (text.length < length) text += Math.floor(this.next() * 4294967296).toString(16).padStart(8, '0')
    return text.slice(0, length)
  }
}
