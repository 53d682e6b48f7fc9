/**
 * A one-line progress bar on stderr (stdout stays clean for reports and pipes). Redrawn at most
 * every 100 ms; on a non-terminal it prints only the final line.
 *
 * Example: const bar = progressBar('generating', 2000); bar.update(500); bar.done()
 *   -> generating [#######.....................] 25% 500/2000
 */
export interface ProgressBar {
  update(done: number): void
  /** Draws the final state and ends the line. */
  done(suffix?: string): void
}

export function progressBar(title: string, total: number, stream: NodeJS.WriteStream = process.stderr): ProgressBar {
  const width = 28
  let lastDrawMs = -Infinity
  let current = 0
  const line = (): string => {
    const share = total === 0 ? 1 : Math.min(1, current / total)
    const filled = Math.round(share * width)
    return `${title} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${String(Math.round(share * 100)).padStart(3)}% ${current}/${total}`
  }
  return {
    update(done) {
      current = done
      const nowMs = performance.now()
      if (!stream.isTTY || nowMs - lastDrawMs < 100) return
      lastDrawMs = nowMs
      stream.write(`\r${line()}`)
    },
    done(suffix = '') {
      current = total
      stream.write(`${stream.isTTY ? '\r' : ''}${line()}${suffix === '' ? '' : ` ${suffix}`}\n`)
    },
  }
}
