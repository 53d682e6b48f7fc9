/**
 * Structured logs, one JSON object per line on stderr (stdout is kept for command output).
 */
import { pino } from 'pino'

export type Logger = pino.Logger

export function createLogger(name: string, level: string = 'info'): Logger {
  return pino({ name, level, base: { service: 'pitboss' } }, pino.destination({ dest: 2, sync: false }))
}

/** A logger that writes nothing, for tests that do not read logs. */
export const silentLogger: Logger = pino({ level: 'silent' })

/**
 * Exits once the logger's buffered lines are written: the log is asynchronous, so a bare
 * `process.exit` after a fatal line would lose the line that says why.
 */
export function exitAfterLogging(logger: Logger, code: number): void {
  logger.flush(() => process.exit(code))
  // If the destination cannot drain, exit anyway.
  setTimeout(() => process.exit(code), 1000).unref()
}

/**
 * Catches SIGTERM and SIGINT from the first line of a process's start-up: a supervisor may stop
 * a process that is still starting (connecting, loading lists and models). Until `whenStarted`
 * hands over the graceful shutdown, a signal exits at once with 0: nothing has been committed
 * yet, and the engine's and sink's recovery treats an exit there like any crash.
 *
 * Example:
 *   const signals = deferSignals(logger)
 *   const engine = await startEngine(config, logger)
 *   signals.whenStarted((reason) => shutdown(0, reason))
 */
export function deferSignals(logger: Logger): { whenStarted(handler: (reason: string) => void): void } {
  let handler: ((reason: string) => void) | null = null
  const onSignal = (signal: string): void => {
    if (handler !== null) {
      handler(signal)
      return
    }
    logger.info({ signal }, 'stopped while starting')
    exitAfterLogging(logger, 0)
  }
  process.once('SIGTERM', () => onSignal('SIGTERM'))
  process.once('SIGINT', () => onSignal('SIGINT'))
  return { whenStarted(next) { handler = next } }
}
