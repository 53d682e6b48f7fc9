/**
 * Verifies an audit log (api/audit.ts): recomputes the hash chain line by line and names the
 * first line that breaks it, whether changed, inserted, deleted or reordered.
 *
 * CLI: `npx tsx api/audit-verify.ts <file> [--expect-head <hash>]`
 *   exit 0 "ok: 1042 entries, head 9f…", exit 1 "broken at line 17: …", exit 2 on usage errors.
 * `--expect-head` also catches lines cut from the end, which leave a shorter valid chain:
 * pass a head hash recorded earlier (e.g. the one `GET /audit/status` reported).
 *
 * Example:
 *   const result = await verifyAuditFile('.pitboss/audit/api.jsonl')
 *   if (!result.ok) console.error(`line ${result.brokenLine}: ${result.reason}`)
 */
import fs from 'node:fs'
import path from 'node:path'
import readline from 'node:readline'
import { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { GENESIS_HASH, chainHash } from './audit.js'

export type AuditVerification =
  | { readonly ok: true; readonly entries: number; readonly headHash: string }
  /** `brokenLine` is 1-based; `entries` counts the lines verified before it. */
  | { readonly ok: false; readonly entries: number; readonly headHash: string; readonly brokenLine: number; readonly reason: string }

const HASH = /^[0-9a-f]{64}$/

export interface AuditVerifyOptions {
  /** A head hash recorded earlier; a chain ending elsewhere had entries cut from its end. */
  readonly expectedHeadHash?: string
  /** Verify only the first `endByte` bytes (a live log's `syncedBytes`, so a batch being written is not read half-way). */
  readonly endByte?: number
}

export async function verifyAuditFile(filePath: string, options: AuditVerifyOptions = {}): Promise<AuditVerification> {
  // createReadStream's `end` is inclusive, so an empty prefix needs an empty stream.
  const stream = options.endByte === 0 ? Readable.from([]) : fs.createReadStream(filePath, { encoding: 'utf8', ...(options.endByte === undefined ? {} : { end: options.endByte - 1 }) })
  const lines = readline.createInterface({ input: stream, crlfDelay: Infinity })
  let previousHash = GENESIS_HASH
  let lineNumber = 0
  const broken = (reason: string): AuditVerification => ({ ok: false, entries: lineNumber - 1, headHash: previousHash, brokenLine: lineNumber, reason })
  try {
    for await (const line of lines) {
      lineNumber += 1
      let entry: Record<string, unknown>
      try {
        const parsed: unknown = JSON.parse(line)
        if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return broken('not a JSON object')
        entry = parsed as Record<string, unknown>
      } catch {
        return broken(line.trim() === '' ? 'empty line' : 'not valid JSON (truncated or edited)')
      }
      const { hash, ...body } = entry
      if (typeof hash !== 'string' || !HASH.test(hash)) return broken('no hash field')
      if (body.previousHash !== previousHash) return broken(`previousHash does not match line ${lineNumber - 1}'s hash: a line before it was removed, inserted or reordered`)
      if (chainHash(previousHash, body) !== hash) return broken('its content does not match its hash: the line was edited')
      if (body.sequence !== lineNumber) return broken(`sequence is ${String(body.sequence)}, expected ${lineNumber}: the file does not start at the log's first entry`)
      previousHash = hash
    }
  } finally {
    lines.close()
  }
  if (options.expectedHeadHash !== undefined && options.expectedHeadHash !== previousHash) {
    lineNumber += 1
    return broken(`the chain ends at ${previousHash}, not at the expected head ${options.expectedHeadHash}: entries were cut from the end`)
  }
  return { ok: true, entries: lineNumber, headHash: previousHash }
}

async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv]
  const headIndex = args.indexOf('--expect-head')
  const expectedHeadHash = headIndex === -1 ? undefined : args.splice(headIndex, 2)[1]
  if (args.length !== 1 || args[0]?.startsWith('-') === true || (headIndex !== -1 && expectedHeadHash === undefined)) {
    process.stderr.write('usage: npx tsx api/audit-verify.ts <audit file> [--expect-head <sha256 hex>]\n')
    return 2
  }
  const filePath = args[0] as string
  if (!fs.existsSync(filePath)) {
    process.stderr.write(`no such file: ${filePath}\n`)
    return 2
  }
  const result = await verifyAuditFile(filePath, expectedHeadHash === undefined ? {} : { expectedHeadHash })
  if (result.ok) {
    process.stdout.write(`ok: ${result.entries} entries, head ${result.headHash}\n`)
    return 0
  }
  process.stdout.write(`broken at line ${result.brokenLine}: ${result.reason} (${result.entries} entries before it verify)\n`)
  return 1
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then((code) => { process.exitCode = code }, (error: unknown) => {
    process.stderr.write(`${(error as Error).message}\n`)
    process.exitCode = 2
  })
}
