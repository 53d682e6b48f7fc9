/**
 * The local Kafka-protocol broker for development, CI and the demo: librdkafka's mock cluster
 * wrapped by `mock-broker.c`, compiled on first use into `${homeDir}/bin/` and run detached so
 * it outlives the process that started it (`infra:up`, then the tests).
 *
 * Files under `homeDir`:
 *   bin/pitboss-mock-broker       the compiled launcher (rebuilt when mock-broker.c is newer)
 *   run/broker.json               BrokerInfo of the running broker (written by startBroker)
 *   run/mock-broker.state.json    written by the binary once ready, removed when it exits
 *   run/broker.lock               held while starting or stopping, so parallel callers agree
 *   logs/broker.log               the binary's stdout and stderr
 *
 * Example:
 *   const broker = await startBroker({ homeDir: config.homeDir, topics: topicCatalog(prefix) })
 *   const kafka = new Kafka({ brokers: broker.brokers })
 *   const control = new BrokerControl(broker.controlPort)
 *   await control.brokerDown(2); ...; await control.brokerUp(2); await control.close()
 *   await stopBroker(config.homeDir)
 *
 * Limits of the mock (librdkafka 2.0.2, see INFRA-NOTES.md): no admin topic creation from
 * kafkajs (pre-create topics here or with BrokerControl.createTopic), no idempotent producer or
 * transactions, ~5 MiB kept per partition, random ports.
 */
import { execFile, spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { closeSync, openSync, promises as fs } from 'node:fs'
import net from 'node:net'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { sleep, systemClock } from '../../core/clock.js'
import { RiskError } from '../../core/errors.js'
import { isProcessAlive } from '../process.js'

export interface BrokerInfo {
  /** Comma-separated bootstrap list, e.g. `127.0.0.1:40123,127.0.0.1:40125`. */
  readonly bootstrap: string
  /** The same list as an array, the form kafkajs takes. */
  readonly brokers: string[]
  /** Port of the line-based control channel on 127.0.0.1 (see BrokerControl). */
  readonly controlPort: number
  readonly pid: number
  /** Number of mock brokers; their ids are 1..brokerCount. */
  readonly brokerCount: number
}

export interface BrokerTopic {
  readonly name: string
  readonly partitions: number
}

export interface StartBrokerOptions {
  readonly homeDir: string
  /** Number of mock brokers (default 1). If a running broker has another count, start fails. */
  readonly brokers?: number
  /** Created at start, or on the running broker when they are missing. `topicCatalog(prefix)` fits. */
  readonly topics: ReadonlyArray<BrokerTopic>
  /** How long to wait for the binary to become ready (default 10 s). */
  readonly readyTimeoutMs?: number
}

export type TopicCreateOutcome = 'created' | 'exists'

const BINARY_NAME = 'pitboss-mock-broker'
const SOURCE_FILE = fileURLToPath(new URL('./mock-broker.c', import.meta.url))
const INSTALL_HINT = 'apt-get install -y librdkafka-dev build-essential pkg-config'
const READY_TIMEOUT_MS = 10_000
const STOP_GRACE_MS = 5_000
const CONTROL_TIMEOUT_MS = 5_000
const STATUS_PING_TIMEOUT_MS = 1_000
const LOCK_WAIT_MS = 30_000
/** A lock older than this is left over from a crash: start and stop finish well within it. */
const LOCK_STALE_MS = 60_000
const POLL_INTERVAL_MS = 25
/** Kafka's topic name rule; also keeps control lines free of spaces and newlines. */
const TOPIC_NAME_PATTERN = /^[A-Za-z0-9._-]{1,249}$/
const MAX_PARTITIONS = 10_000
const MAX_BROKERS = 64

/** Where the launcher keeps its files under `homeDir`. */
export function brokerPaths(homeDir: string) {
  return {
    binary: path.join(homeDir, 'bin', BINARY_NAME),
    runFile: path.join(homeDir, 'run', 'broker.json'),
    stateFile: path.join(homeDir, 'run', 'mock-broker.state.json'),
    lockFile: path.join(homeDir, 'run', 'broker.lock'),
    logFile: path.join(homeDir, 'logs', 'broker.log'),
  }
}

interface CommandResult {
  readonly exitCode: number | null
  readonly stdout: string
  readonly stderr: string
  readonly missing: boolean
}

function runCommand(command: string, args: readonly string[]): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(command, args, { encoding: 'utf8', timeout: 120_000 }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code
      resolve({
        exitCode: error === null ? 0 : typeof code === 'number' ? code : null,
        stdout,
        stderr,
        missing: code === 'ENOENT',
      })
    })
  })
}

/** `pkg-config --cflags --libs rdkafka` when pkg-config knows it, else plain `-lrdkafka`. */
async function rdkafkaFlags(): Promise<string[]> {
  const result = await runCommand('pkg-config', ['--cflags', '--libs', 'rdkafka'])
  const flags = result.exitCode === 0 ? result.stdout.trim().split(/\s+/).filter(Boolean) : []
  return flags.length > 0 ? flags : ['-lrdkafka']
}

/**
 * Compiles mock-broker.c into `${homeDir}/bin/pitboss-mock-broker` when the binary is missing
 * or older than the source, and returns its path. Safe to call from parallel processes: each
 * compiles to its own temporary file and renames it into place.
 *
 * `options.compiler` (default `cc`) exists for tests of the missing-compiler path.
 *
 * Example: `const binary = await ensureBrokerBinary('.pitboss')`
 */
export async function ensureBrokerBinary(homeDir: string, options: { compiler?: string } = {}): Promise<string> {
  const { binary } = brokerPaths(homeDir)
  const [sourceStat, binaryStat] = await Promise.all([fs.stat(SOURCE_FILE), fs.stat(binary).catch(() => null)])
  if (binaryStat !== null && binaryStat.mtimeMs >= sourceStat.mtimeMs) return binary

  const compiler = options.compiler ?? 'cc'
  await fs.mkdir(path.dirname(binary), { recursive: true })
  const temporary = `${binary}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  const result = await runCommand(compiler, ['-O2', '-Wall', '-Wextra', '-o', temporary, SOURCE_FILE, ...(await rdkafkaFlags())])
  if (result.exitCode !== 0) {
    await fs.rm(temporary, { force: true })
    const context = { compiler, source: SOURCE_FILE, compilerOutput: result.stderr.slice(0, 2000) }
    if (result.missing) {
      throw new RiskError('RISK_ERR_SUBSTRATE', `cannot build the local Kafka broker: C compiler '${compiler}' not found; install it with: ${INSTALL_HINT}`, context)
    }
    if (/rdkafka(_mock)?\.h.*no such file|cannot find -lrdkafka/i.test(result.stderr)) {
      throw new RiskError('RISK_ERR_SUBSTRATE', `cannot build the local Kafka broker: librdkafka/rdkafka_mock.h or librdkafka is missing; install it with: ${INSTALL_HINT}`, context)
    }
    const firstError = result.stderr.split('\n').find((line) => /error/i.test(line)) ?? result.stderr.split('\n')[0] ?? ''
    throw new RiskError('RISK_ERR_SUBSTRATE', `compiling ${SOURCE_FILE} failed: ${firstError.trim()}`, context)
  }
  await fs.rename(temporary, binary)
  return binary
}

function validateTopic(topic: BrokerTopic): void {
  if (!TOPIC_NAME_PATTERN.test(topic.name) || topic.name === '.' || topic.name === '..') {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `topic name '${topic.name}' is not a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)`, { topic: topic.name })
  }
  if (!Number.isInteger(topic.partitions) || topic.partitions < 1 || topic.partitions > MAX_PARTITIONS) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `topic ${topic.name} needs an integer partition count 1..${MAX_PARTITIONS}, got ${topic.partitions}`, { topic: topic.name })
  }
}

/** Whether `pid` is a pitboss-mock-broker, so a recycled pid never gets our SIGTERM. */
async function isBrokerProcess(pid: number, controlPort: number | undefined): Promise<boolean> {
  if (!isProcessAlive(pid)) return false
  try {
    return (await fs.readFile(`/proc/${pid}/cmdline`, 'utf8')).includes(BINARY_NAME)
  } catch {
    // No /proc: fall back to asking the control channel.
    return controlPort !== undefined && (await pingQuietly(controlPort, STATUS_PING_TIMEOUT_MS))
  }
}

async function readJson(file: string): Promise<unknown> {
  try {
    return JSON.parse(await fs.readFile(file, 'utf8'))
  } catch {
    return null
  }
}

async function writeJsonAtomically(file: string, value: unknown): Promise<void> {
  const temporary = `${file}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`
  await fs.writeFile(temporary, JSON.stringify(value, null, 2) + '\n')
  await fs.rename(temporary, file)
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

/** The binary's state file: `{"bootstrap":"127.0.0.1:P,...","controlPort":N,"pid":N,"brokers":N}`. */
function parseStateFile(value: unknown): BrokerInfo | null {
  if (value === null || typeof value !== 'object') return null
  const record = value as Record<string, unknown>
  if (typeof record.bootstrap !== 'string' || !isPositiveInteger(record.controlPort) || !isPositiveInteger(record.pid) || !isPositiveInteger(record.brokers)) return null
  return { bootstrap: record.bootstrap, brokers: record.bootstrap.split(','), controlPort: record.controlPort, pid: record.pid, brokerCount: record.brokers }
}

function parseRunFile(value: unknown): BrokerInfo | null {
  if (value === null || typeof value !== 'object') return null
  const record = value as Record<string, unknown>
  if (typeof record.bootstrap !== 'string' || !Array.isArray(record.brokers) || !isPositiveInteger(record.controlPort) || !isPositiveInteger(record.pid) || !isPositiveInteger(record.brokerCount)) return null
  return { bootstrap: record.bootstrap, brokers: record.bootstrap.split(','), controlPort: record.controlPort, pid: record.pid, brokerCount: record.brokerCount }
}

async function pingQuietly(port: number, timeoutMs: number): Promise<boolean> {
  const control = new BrokerControl(port, '127.0.0.1', { timeoutMs })
  try {
    await control.ping()
    return true
  } catch {
    return false
  } finally {
    await control.close()
  }
}

/** Runs `action` while holding the lock file, so parallel test processes start one broker. */
async function withLock<T>(lockFile: string, action: () => Promise<T>): Promise<T> {
  const deadlineMs = systemClock.monotonicMs() + LOCK_WAIT_MS
  for (;;) {
    try {
      await fs.writeFile(lockFile, String(process.pid), { flag: 'wx' })
      break
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    }
    const [owner, stat] = await Promise.all([fs.readFile(lockFile, 'utf8').catch(() => ''), fs.stat(lockFile).catch(() => null)])
    const ownerPid = Number(owner)
    // An empty file is a lock being written right now; only its age can make it stale.
    const stale = stat !== null && ((isPositiveInteger(ownerPid) && !isProcessAlive(ownerPid)) || systemClock.nowMs() - stat.mtimeMs > LOCK_STALE_MS)
    if (stale) {
      await fs.rm(lockFile, { force: true })
      continue
    }
    if (systemClock.monotonicMs() > deadlineMs) {
      throw new RiskError('RISK_ERR_SUBSTRATE', `another process (pid ${owner || 'unknown'}) has been starting or stopping the local broker for ${LOCK_WAIT_MS / 1000} s; if none is, delete ${lockFile}`, { lockFile })
    }
    await sleep(50)
  }
  try {
    return await action()
  } finally {
    await fs.rm(lockFile, { force: true })
  }
}

/** SIGTERM, up to STOP_GRACE_MS for a clean exit, then SIGKILL. */
async function terminate(pid: number): Promise<void> {
  const signal = (name: NodeJS.Signals): void => {
    try {
      process.kill(pid, name)
    } catch {
      // Already gone.
    }
  }
  signal('SIGTERM')
  const graceDeadlineMs = systemClock.monotonicMs() + STOP_GRACE_MS
  while (isProcessAlive(pid) && systemClock.monotonicMs() < graceDeadlineMs) await sleep(POLL_INTERVAL_MS)
  if (!isProcessAlive(pid)) return
  signal('SIGKILL')
  const killDeadlineMs = systemClock.monotonicMs() + 2_000
  while (isProcessAlive(pid) && systemClock.monotonicMs() < killDeadlineMs) await sleep(POLL_INTERVAL_MS)
  if (isProcessAlive(pid)) throw new RiskError('RISK_ERR_SUBSTRATE', `the local broker (pid ${pid}) survived SIGKILL; check it with: ps -p ${pid}`, { pid })
}

async function lastLogLine(logFile: string): Promise<string> {
  const text = await fs.readFile(logFile, 'utf8').catch(() => '')
  const lines = text.trim().split('\n')
  return (lines[lines.length - 1] ?? '').slice(0, 300)
}

async function createTopics(controlPort: number, topics: ReadonlyArray<BrokerTopic>): Promise<void> {
  if (topics.length === 0) return
  const control = new BrokerControl(controlPort)
  try {
    for (const topic of topics) await control.createTopic(topic.name, topic.partitions)
  } finally {
    await control.close()
  }
}

/** The broker described by the run file, if its process lives and answers `ping`. */
async function liveBroker(runFile: string, timeoutMs: number): Promise<BrokerInfo | null> {
  const info = parseRunFile(await readJson(runFile))
  if (info === null || !isProcessAlive(info.pid)) return null
  return (await pingQuietly(info.controlPort, timeoutMs)) ? info : null
}

async function spawnBroker(options: StartBrokerOptions, brokerCount: number): Promise<BrokerInfo> {
  const paths = brokerPaths(options.homeDir)
  const binary = await ensureBrokerBinary(options.homeDir)
  await fs.rm(paths.stateFile, { force: true })
  const args = ['--brokers', String(brokerCount), '--state-file', paths.stateFile, '--control-port', '0']
  for (const topic of options.topics) args.push('--topic', `${topic.name}:${topic.partitions}`)

  const logDescriptor = openSync(paths.logFile, 'a')
  // Filled in by the child's events while we poll for readiness.
  const outcome: { exit: { code: number | null; signal: NodeJS.Signals | null } | null; spawnError: Error | null } = { exit: null, spawnError: null }
  // detached: its own session, so it outlives this process and its terminal's Ctrl-C.
  const child = spawn(binary, args, { detached: true, stdio: ['ignore', logDescriptor, logDescriptor] })
  closeSync(logDescriptor)
  child.once('exit', (code, signal) => { outcome.exit = { code, signal } })
  child.once('error', (error) => { outcome.spawnError = error })
  child.unref()

  const timeoutMs = options.readyTimeoutMs ?? READY_TIMEOUT_MS
  const deadlineMs = systemClock.monotonicMs() + timeoutMs
  try {
    for (;;) {
      if (outcome.spawnError !== null) {
        throw new RiskError('RISK_ERR_SUBSTRATE', `cannot run ${binary}: ${outcome.spawnError.message}; delete it to rebuild`, { binary }, { cause: outcome.spawnError })
      }
      if (outcome.exit !== null) {
        const { code, signal } = outcome.exit
        throw new RiskError('RISK_ERR_SUBSTRATE', `the local broker exited during start-up (${signal ?? `code ${code}`}): "${await lastLogLine(paths.logFile)}"; full log: ${paths.logFile}`, { logFile: paths.logFile })
      }
      const state = parseStateFile(await readJson(paths.stateFile))
      if (state !== null && state.pid === child.pid && (await pingQuietly(state.controlPort, CONTROL_TIMEOUT_MS))) return state
      if (systemClock.monotonicMs() > deadlineMs) {
        throw new RiskError('RISK_ERR_SUBSTRATE', `the local broker did not become ready within ${timeoutMs} ms; see ${paths.logFile}`, { logFile: paths.logFile, timeoutMs })
      }
      await sleep(POLL_INTERVAL_MS)
    }
  } catch (error) {
    if (child.pid !== undefined && outcome.exit === null) await terminate(child.pid)
    await fs.rm(paths.stateFile, { force: true })
    throw error
  } finally {
    child.removeAllListeners()
  }
}

/**
 * Starts the local broker, or returns the one already running for `homeDir`, after creating
 * any of `topics` it lacks (an existing topic keeps its partition count). The broker keeps
 * running after this process exits; stop it with stopBroker.
 *
 * Example:
 *   const info = await startBroker({ homeDir, brokers: 3, topics: [{ name: 't.deposits', partitions: 8 }] })
 *   // info.brokers -> ['127.0.0.1:40123', '127.0.0.1:40125', '127.0.0.1:40127']
 */
export async function startBroker(options: StartBrokerOptions): Promise<BrokerInfo> {
  const brokerCount = options.brokers ?? 1
  if (!Number.isInteger(brokerCount) || brokerCount < 1 || brokerCount > MAX_BROKERS) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `the broker count must be an integer 1..${MAX_BROKERS}, got ${brokerCount}`)
  }
  options.topics.forEach(validateTopic)
  const paths = brokerPaths(options.homeDir)
  await Promise.all([fs.mkdir(path.dirname(paths.runFile), { recursive: true }), fs.mkdir(path.dirname(paths.logFile), { recursive: true })])

  return withLock(paths.lockFile, async () => {
    const running = await liveBroker(paths.runFile, CONTROL_TIMEOUT_MS)
    if (running !== null) {
      if (options.brokers !== undefined && running.brokerCount !== options.brokers) {
        throw new RiskError('RISK_ERR_SUBSTRATE', `a local broker with ${running.brokerCount} broker(s) already runs for ${options.homeDir}, ${options.brokers} were asked for; stop it first (stopBroker) or use another home folder`, { pid: running.pid })
      }
      await createTopics(running.controlPort, options.topics)
      return running
    }
    // Not answering: clear what is left of an earlier run (a hung binary is stopped).
    await stopRecorded(paths)
    const info = await spawnBroker(options, brokerCount)
    await writeJsonAtomically(paths.runFile, info)
    return info
  })
}

/** Stops the broker named by the run file (or, failing that, the binary's state file). */
async function stopRecorded(paths: ReturnType<typeof brokerPaths>): Promise<void> {
  for (const recorded of [parseRunFile(await readJson(paths.runFile)), parseStateFile(await readJson(paths.stateFile))]) {
    if (recorded !== null && (await isBrokerProcess(recorded.pid, recorded.controlPort))) await terminate(recorded.pid)
  }
  await Promise.all([fs.rm(paths.runFile, { force: true }), fs.rm(paths.stateFile, { force: true })])
}

/**
 * Stops the local broker of `homeDir`: SIGTERM, up to 5 s, then SIGKILL; removes the run file.
 * Does nothing when no broker runs.
 *
 * Example: `await stopBroker(config.homeDir)`
 */
export async function stopBroker(homeDir: string): Promise<void> {
  const paths = brokerPaths(homeDir)
  try {
    await fs.access(path.dirname(paths.runFile))
  } catch {
    return
  }
  await withLock(paths.lockFile, () => stopRecorded(paths))
}

/**
 * The running broker of `homeDir`, or null when none runs or it does not answer `ping`.
 * Reads only; never starts, stops or cleans up.
 *
 * Example: `const info = await brokerStatus(homeDir); if (info) console.log(info.bootstrap)`
 */
export async function brokerStatus(homeDir: string): Promise<BrokerInfo | null> {
  return liveBroker(brokerPaths(homeDir).runFile, STATUS_PING_TIMEOUT_MS)
}

interface PendingCommand {
  readonly line: string
  readonly resolve: (reply: string) => void
  readonly reject: (error: Error) => void
  readonly timer: NodeJS.Timeout
}

/**
 * Client of the broker's control channel (one line per command, one line per reply, many
 * commands on one connection). Commands run in order; each waits for its reply and throws a
 * RiskError (RISK_ERR_SUBSTRATE) on an `error` reply, a lost connection or a timeout.
 * The connection does not keep the process alive; close() it when done anyway.
 *
 * Example:
 *   const control = new BrokerControl(info.controlPort)
 *   await control.createTopic('t1.casino.deposits.v1', 8)   // 'created' or 'exists'
 *   await control.brokerDown(1); await control.brokerUp(1)
 *   await control.close()
 */
export class BrokerControl {
  private socket: net.Socket | null = null
  private connecting: Promise<net.Socket> | null = null
  private received = ''
  private readonly pending: PendingCommand[] = []
  private readonly timeoutMs: number

  constructor(readonly port: number, readonly host = '127.0.0.1', options: { timeoutMs?: number } = {}) {
    this.timeoutMs = options.timeoutMs ?? CONTROL_TIMEOUT_MS
  }

  async ping(): Promise<void> {
    await this.send('ping')
  }

  /** Creates a topic; an existing topic is left as it is (its partition count unchanged). */
  async createTopic(name: string, partitions: number): Promise<TopicCreateOutcome> {
    validateTopic({ name, partitions })
    return (await this.send(`topic ${name} ${partitions}`)) === 'exists' ? 'exists' : 'created'
  }

  /** Disconnects broker `brokerId` (1..brokerCount) and refuses new connections. Leaders do not move. */
  async brokerDown(brokerId: number): Promise<void> {
    await this.send(`down ${this.brokerId(brokerId)}`)
  }

  async brokerUp(brokerId: number): Promise<void> {
    await this.send(`up ${this.brokerId(brokerId)}`)
  }

  /** Drops the connection; commands still waiting fail with RISK_ERR_SHUTDOWN. */
  async close(): Promise<void> {
    this.failAll(new RiskError('RISK_ERR_SHUTDOWN', 'the broker control connection was closed'))
  }

  private brokerId(brokerId: number): number {
    if (!Number.isInteger(brokerId) || brokerId < 1) {
      throw new RiskError('RISK_ERR_CONFIG_INVALID', `a broker id is an integer from 1, got ${brokerId}`)
    }
    return brokerId
  }

  private async send(line: string): Promise<string> {
    const socket = await this.connect()
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        // A late reply would be taken for the next command's: drop the connection instead.
        this.failAll(new RiskError('RISK_ERR_SUBSTRATE', `the local broker did not answer '${line}' within ${this.timeoutMs} ms on ${this.address()}`, { port: this.port }))
      }, this.timeoutMs)
      this.pending.push({ line, resolve, reject, timer })
      socket.write(`${line}\n`)
    })
  }

  private address(): string {
    return `${this.host}:${this.port}`
  }

  private connect(): Promise<net.Socket> {
    if (this.socket !== null) return Promise.resolve(this.socket)
    if (this.connecting !== null) return this.connecting
    this.connecting = new Promise<net.Socket>((resolve, reject) => {
      const socket = net.connect({ port: this.port, host: this.host })
      let connected = false
      const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${this.timeoutMs} ms`)), this.timeoutMs)
      socket.once('connect', () => {
        connected = true
        clearTimeout(timer)
        socket.unref()
        socket.setEncoding('utf8')
        socket.on('data', (chunk: string) => this.onData(chunk))
        socket.on('close', () => {
          if (this.socket === socket) this.failAll(new RiskError('RISK_ERR_SUBSTRATE', `the local broker closed the control connection ${this.address()}`, { port: this.port }))
        })
        this.socket = socket
        this.connecting = null
        resolve(socket)
      })
      socket.on('error', (error) => {
        clearTimeout(timer)
        if (connected) return // 'close' follows and fails what is pending
        this.connecting = null
        reject(new RiskError('RISK_ERR_SUBSTRATE', `cannot reach the local broker's control channel at ${this.address()} (${error.message}); is it running? see brokerStatus`, { port: this.port }, { cause: error }))
      })
    })
    return this.connecting
  }

  private onData(chunk: string): void {
    this.received += chunk
    let newline: number
    while ((newline = this.received.indexOf('\n')) >= 0) {
      const reply = this.received.slice(0, newline).trimEnd()
      this.received = this.received.slice(newline + 1)
      const command = this.pending.shift()
      if (command === undefined) continue
      clearTimeout(command.timer)
      if (reply === 'ok' || reply.startsWith('ok ')) {
        command.resolve(reply.slice(3))
      } else {
        const reason = reply.startsWith('error ') ? reply.slice(6) : `unexpected reply '${reply}'`
        command.reject(new RiskError('RISK_ERR_SUBSTRATE', `the local broker refused '${command.line}': ${reason}`, { port: this.port }))
      }
    }
  }

  private failAll(error: RiskError): void {
    const socket = this.socket
    this.socket = null
    this.received = ''
    for (const command of this.pending.splice(0)) {
      clearTimeout(command.timer)
      command.reject(error)
    }
    // destroy, not end: the socket is unref'd, so waiting for a graceful close could let the
    // event loop run dry first. The broker just sees the connection go.
    socket?.destroy()
  }
}
