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
