/**
 * The local schema registry as a process:
 *
 *   node --import tsx infra/registry/main.ts --data-dir DIR --port N --state-file PATH [--log-level info]
 *
 * Listens on 127.0.0.1 only (`--port 0` picks a free port). Once listening it writes
 * `{"url":"http://127.0.0.1:PORT","pid":N}` to the state file atomically (temp file + rename),
 * so a reader never sees half a file; launcher.ts waits for it. SIGTERM or SIGINT closes the
 * server (in-flight requests finish, the store's lock is released) and removes the state file.
 * Logs are JSON lines on stderr. Exit codes: 0 after a signal, 1 when start-up fails, 2 for
 * bad arguments.
 */
import fs from 'node:fs'
import path from 'node:path'
import { parseArgs } from 'node:util'
import { createLogger } from '../../core/logger.js'
import { createRegistryServer } from './server.js'

const HOST = '127.0.0.1'
/** A shutdown that takes longer than this is cut short; the launcher's SIGKILL comes at 5 s. */
const SHUTDOWN_LIMIT_MS = 4_000

interface RegistryStateFile {
  readonly url: string
  readonly pid: number
}

interface Arguments {
  readonly dataDir: string
  readonly port: number
  readonly stateFile: string
  readonly logLevel: string
}

function readArguments(argv: readonly string[]): Arguments {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      'data-dir': { type: 'string' },
      port: { type: 'string', default: '0' },
      'state-file': { type: 'string' },
      'log-level': { type: 'string', default: 'info' },
    },
    strict: true,
  })
  const dataDir = values['data-dir']
  const stateFile = values['state-file']
  const port = Number(values.port)
  if (dataDir === undefined || stateFile === undefined) throw new Error('--data-dir and --state-file are required')
  if (!Number.isInteger(port) || port < 0 || port > 65_535) throw new Error(`--port must be 0..65535, got '${values.port}'`)
  return { dataDir: path.resolve(dataDir), port, stateFile: path.resolve(stateFile), logLevel: values['log-level'] }
}

/** Writes the state file so that readers see either nothing or all of it. */
function writeStateFileAtomically(stateFile: string, state: RegistryStateFile): void {
  fs.mkdirSync(path.dirname(stateFile), { recursive: true })
  const temporary = `${stateFile}.${process.pid}.tmp`
  fs.writeFileSync(temporary, `${JSON.stringify(state)}\n`)
  fs.renameSync(temporary, stateFile)
}

function removeStateFileIfOurs(stateFile: string): void {
  try {
    const state = JSON.parse(fs.readFileSync(stateFile, 'utf8')) as Partial<RegistryStateFile>
    if (state.pid === process.pid) fs.rmSync(stateFile, { force: true })
  } catch {
    // absent or replaced by another registry's: not ours to remove
  }
}

async function main(): Promise<void> {
  let options: Arguments
  try {
    options = readArguments(process.argv.slice(2))
  } catch (error) {
    process.stderr.write(`registry: ${(error as Error).message}\n` +
      'usage: node --import tsx infra/registry/main.ts --data-dir DIR --port N --state-file PATH [--log-level info]\n')
    process.exitCode = 2
    return
  }
  const logger = createLogger('registry', options.logLevel)
  const app = createRegistryServer({ dataDir: options.dataDir, logger })
  let url: string
  try {
    const address = await app.listen({ host: HOST, port: options.port })
    url = address.replace(/\/+$/, '')
    writeStateFileAtomically(options.stateFile, { url, pid: process.pid })
  } catch (error) {
    await app.close() // releases the store's lock; without it the process would linger, listening
    throw error
  }
  logger.info({ url, dataDir: options.dataDir, stateFile: options.stateFile }, 'registry listening')

  let closing = false
  const shutdown = (signal: NodeJS.Signals): void => {
    if (closing) return
    closing = true
    logger.info({ signal }, 'registry shutting down')
    removeStateFileIfOurs(options.stateFile)
    setTimeout(() => {
      logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'registry shutdown took too long; exiting')
      process.exit(1)
    }, SHUTDOWN_LIMIT_MS).unref()
    app.close().then(
      () => logger.info('registry stopped'),
      (error: unknown) => {
        logger.error({ err: error }, 'registry close failed')
        process.exitCode = 1
      },
    )
  }
  process.on('SIGTERM', shutdown)
  process.on('SIGINT', shutdown)
}

main().catch((error: unknown) => {
  // Start-up failed (data dir locked, corrupt log, port taken): say why on stderr, which the
  // launcher sends to the log file it points at.
  const logger = createLogger('registry')
  logger.fatal({ err: error }, 'registry failed to start')
  process.exitCode = 1
})
