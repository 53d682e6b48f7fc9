/**
 * Rescreening on every list update, without an operator: the API process checks the lists
 * folder as the engines do (PITBOSS_SCREENING_RELOAD_INTERVAL_MS); when its files change it waits
 * two intervals, so the engines have loaded the new lists, then sends one RESCREEN instruction per
 * known player to risk.screening.v1 (screening/rescreen.ts), logging progress and a summary. The
 * instruction ids name the list versions, so a second API process or a manual
 * `npx tsx screening/rescreen.ts` for the same lists sends the same records (idempotent).
 *
 * Example:
 *   const watcher = startAutoRescreen(config, logger)
 *   ...
 *   await watcher.stop()
 */
import { Writable } from 'node:stream'
import type { PitbossConfig } from '../core/config.js'
import type { Logger } from '../core/logger.js'
import { listsFolderFingerprint } from './directory.js'
import { runRescreen } from './rescreen.js'

export interface AutoRescreen {
  stop(): Promise<void>
}

export function startAutoRescreen(config: PitbossConfig, logger: Logger): AutoRescreen {
  const listsDir = config.screening.listsDir
  if (listsDir === null) return { stop: async () => undefined }
  const intervalMs = config.screening.reloadIntervalMs
  let seen = listsFolderFingerprint(listsDir)
  let changedAtMs: number | null = null
  let running: Promise<void> | null = null
  // The progress bar goes to the log as lines every 10 %, not to a terminal.
  let lastLoggedTenth = -1
  const progress = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      const match = /(\d+)\/(\d+)/.exec(chunk.toString('utf8'))
      if (match !== null) {
        const tenth = Math.floor((Number(match[1]) / Math.max(1, Number(match[2]))) * 10)
        if (tenth !== lastLoggedTenth) {
          lastLoggedTenth = tenth
          logger.info({ done: Number(match[1]), players: Number(match[2]) }, 'rescreening players')
        }
      }
      callback()
    },
  })
  // The bar draws updates only on a terminal; this stream turns them into log lines.
  Object.assign(progress, { isTTY: true })
  const timer = setInterval(() => {
    if (running !== null) return
    const now = listsFolderFingerprint(listsDir)
    if (now !== seen) {
      seen = now
      changedAtMs = Date.now()
      logger.info({ listsDir }, `sanctions lists changed; rescreening every player in ${(2 * intervalMs) / 1000} s, once the engines have loaded them`)
      return
    }
    if (changedAtMs === null || Date.now() - changedAtMs < 2 * intervalMs) return
    changedAtMs = null
    lastLoggedTenth = -1
    running = runRescreen(config, { dryRun: false, wait: false, batchSize: 500, waitTimeoutMs: 0 }, logger, progress as unknown as NodeJS.WriteStream)
      .then((report) => logger.info({ players: report.players, produced: report.produced, fingerprint: report.fingerprint }, 'rescreen after the list update sent'))
      .catch((error: unknown) => logger.error({ err: error }, 'rescreen after the list update failed; run npx tsx screening/rescreen.ts'))
      .finally(() => { running = null })
  }, intervalMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
