/**
 * Schema validation with xmllint (Debian libxml2-utils) and the STR export that depends on it.
 * An STR leaves pitboss only as a file that validated: the draft's own rules first (draft.ts),
 * then the FIU's XSD. A broken STR is refused with RISK_ERR_REQUEST_INVALID carrying the schema
 * errors with their line numbers, and nothing is written.
 *
 * xmllint reads the document on stdin (no temp files), runs with --nonet (a schema may not pull
 * anything from the network) and is killed after `timeoutMs`.
 *
 * Example:
 *   const exported = await exportGoaml(approvedDraft, {
 *     schemaPath: goamlSchemaPath(config.referenceDataDir), submissionTimeMs: clock.nowMs(), outputDir: '/var/lib/pitboss/str' })
 *   // exported.filePath -> '/var/lib/pitboss/str/STR-str-case-42.xml'
 */
import { spawn } from 'node:child_process'
import { createHash } from 'node:crypto'
import { access, mkdir, rename, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { RiskError, type ErrorContext } from '../../core/errors.js'
import { assertDraftValid, checkDraft, type StrDraft, type StrProblem } from './draft.js'
import { renderGoaml, type GoamlRenderOptions } from './goaml.js'

export interface SchemaError {
  /** Line in the validated document; null when xmllint names none. */
  readonly line: number | null
  /** The element xmllint was at, e.g. first_name; null for parser errors. */
  readonly element: string | null
  readonly message: string
}

export interface SchemaValidation {
  readonly valid: boolean
  readonly errors: readonly SchemaError[]
}

export interface XmllintOptions {
  /** The XSD to validate against. */
  readonly schemaPath: string
  /** Kill xmllint after this long; default 10 000 ms (a goAML report validates in ~15 ms). */
  readonly timeoutMs?: number
  /** The xmllint binary; default 'xmllint' from PATH. */
  readonly xmllintPath?: string
}

const DEFAULT_TIMEOUT_MS = 10_000
const MAX_STDERR_BYTES = 1024 * 1024

/** Where the goAML 5.0.2 schema lives in the reference data (config.referenceDataDir). */
export function goamlSchemaPath(referenceDataDir: string): string {
  return path.join(referenceDataDir, 'regulator', 'goaml-5.0.2', 'goAMLSchema.xsd')
}

/**
 * Validates `xml` against the schema with `xmllint --noout --nonet --schema <xsd> -`.
 * Resolves with the errors (a malformed document is invalid too, with the parser's errors);
 * rejects with RISK_ERR_CONFIG_INVALID when the schema is missing or does not compile, and with
 * RISK_ERR_SUBSTRATE when xmllint cannot be started or times out.
 */
export async function validateXml(xml: string, options: XmllintOptions): Promise<SchemaValidation> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS
  try {
    await access(options.schemaPath)
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `schema ${options.schemaPath} cannot be read; check the reference data folder`, { schemaPath: options.schemaPath }, { cause: error })
  }
  const { exitCode, stderr } = await runXmllint(options.xmllintPath ?? 'xmllint', ['--noout', '--nonet', '--schema', options.schemaPath, '-'], xml, timeoutMs)
  if (exitCode === 0) return { valid: true, errors: [] }
  if (exitCode === 5) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `schema ${options.schemaPath} does not compile: ${stderr.trim().split('\n').slice(0, 3).join(' | ')}`, { schemaPath: options.schemaPath })
  }
  const errors = parseXmllintErrors(stderr)
  return { valid: false, errors: errors.length > 0 ? errors : [{ line: null, element: null, message: `xmllint exited with ${exitCode}: ${stderr.trim().slice(0, 500)}` }] }
}

/** xmllint's diagnostics on a document read from stdin ('-:LINE: ...'), one per error. */
export function parseXmllintErrors(stderr: string): readonly SchemaError[] {
  const errors: SchemaError[] = []
  for (const line of stderr.split('\n')) {
    const match = /^-:(\d+): (?:element ([^:]+): )?(.*)$/.exec(line)
    if (!match) continue
    const message = (match[3] ?? '').replace(/^Schemas validity error : /, '').replace(/^parser error : /, 'parser error: ').trim()
    errors.push({ line: Number(match[1]), element: match[2] ?? null, message })
  }
  return errors
}

function runXmllint(binary: string, args: readonly string[], input: string, timeoutMs: number): Promise<{ exitCode: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, { stdio: ['pipe', 'ignore', 'pipe'] })
    const chunks: Buffer[] = []
    let stderrBytes = 0
    let settled = false
    const finish = (outcome: () => void): void => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      outcome()
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(() => reject(new RiskError('RISK_ERR_SUBSTRATE', `xmllint did not finish within ${timeoutMs} ms; retry, or raise the timeout for very large reports`, { timeoutMs })))
    }, timeoutMs)
    child.stderr.on('data', (chunk: Buffer) => {
      // Keep the first MiB: enough for every error a report can have, bounded for a runaway one.
      if (stderrBytes < MAX_STDERR_BYTES) chunks.push(chunk)
      stderrBytes += chunk.length
    })
    child.on('error', (error) => finish(() => reject(new RiskError('RISK_ERR_SUBSTRATE',
      `xmllint could not be started (${(error as NodeJS.ErrnoException).code ?? error.message}); install Debian's libxml2-utils`, { binary }, { cause: error }))))
    child.on('close', (code, signal) => finish(() => {
      if (code === null) reject(new RiskError('RISK_ERR_SUBSTRATE', `xmllint was stopped by ${signal ?? 'a signal'}`, { binary }))
      else resolve({ exitCode: code, stderr: Buffer.concat(chunks).toString('utf8') })
    }))
    // xmllint may exit before reading everything (e.g. a parser error early on): that is its answer, not ours to report.
    child.stdin.on('error', () => {})
    child.stdin.end(input, 'utf8')
  })
}

/** An STR the FIU's schema refuses: RISK_ERR_REQUEST_INVALID with every schema error. */
export class GoamlSchemaRejection extends RiskError {
  readonly schemaErrors: readonly SchemaError[]

  constructor(draftId: string, schemaErrors: readonly SchemaError[], context: ErrorContext = {}) {
    const listed = schemaErrors.slice(0, 10).map((error) => `line ${error.line ?? '?'}: ${error.message}`).join('; ')
    const more = schemaErrors.length > 10 ? ` (and ${schemaErrors.length - 10} more)` : ''
    super('RISK_ERR_REQUEST_INVALID', `STR ${draftId} does not validate against the goAML schema: ${listed}${more}`,
      { draftId, firstErrorLine: schemaErrors[0]?.line ?? null, schemaErrorCount: schemaErrors.length, ...context })
    this.name = 'GoamlSchemaRejection'
    this.schemaErrors = schemaErrors
  }
}

export interface GoamlExportOptions extends XmllintOptions, GoamlRenderOptions {
  /** Folder the file is written to, only once it validated; omit to get the XML back without writing. */
  readonly outputDir?: string | null
  /**
   * Raw-XML hook: adjusts the rendered document before validation (an element a particular FIU
   * adds to the standard, a fix-up agreed with the FIU). Whatever it returns is validated like
   * the rendered XML, so it cannot smuggle a broken file out.
   */
  readonly transformXml?: (xml: string) => string
}

export interface GoamlExport {
  readonly xml: string
  readonly fileName: string
  /** Where it was written; null when no outputDir was given. */
  readonly filePath: string | null
  /** SHA-256 of the file's bytes (hex), for the audit log. */
  readonly sha256: string
}

/**
 * Renders an approved draft as goAML XML, validates it (draft rules, then the schema) and, when
 * `outputDir` is given, writes `STR-<draftId>.xml` there atomically (temp file, then rename).
 * Refuses a draft that is not approved (RISK_ERR_CASE_TRANSITION), one that breaks the draft
 * rules (RISK_ERR_REQUEST_INVALID listing them) and one the schema refuses (GoamlSchemaRejection).
 */
export async function exportGoaml(draft: StrDraft, options: GoamlExportOptions): Promise<GoamlExport> {
  if (draft.status !== 'approved') {
    throw new RiskError('RISK_ERR_CASE_TRANSITION', `STR draft ${draft.draftId} is ${draft.status}; an officer approves it before export`, { draftId: draft.draftId })
  }
  assertDraftValid(draft)
  const rendered = renderGoaml(draft, options)
  const xml = options.transformXml ? options.transformXml(rendered) : rendered
  const validation = await validateXml(xml, options)
  if (!validation.valid) throw new GoamlSchemaRejection(draft.draftId, validation.errors, { caseId: draft.caseId })
  const fileName = `STR-${draft.draftId.replace(/[^A-Za-z0-9._-]/g, '_')}.xml`
  const sha256 = createHash('sha256').update(xml, 'utf8').digest('hex')
  if (!options.outputDir) return { xml, fileName, filePath: null, sha256 }
  await mkdir(options.outputDir, { recursive: true })
  const filePath = path.join(options.outputDir, fileName)
  const temporaryPath = `${filePath}.${process.pid}.tmp`
  await writeFile(temporaryPath, xml, 'utf8')
  await rename(temporaryPath, filePath)
  return { xml, fileName, filePath, sha256 }
}

export interface GoamlPreview {
  /** null when the draft is too incomplete to render at all (see problems). */
  readonly xml: string | null
  readonly problems: readonly StrProblem[]
  /** null when nothing could be rendered. */
  readonly schema: SchemaValidation | null
}

/** For the console while editing: the draft's problems and the schema's verdict, without refusing. */
export async function previewGoaml(draft: StrDraft, options: XmllintOptions & GoamlRenderOptions): Promise<GoamlPreview> {
  const problems = checkDraft(draft)
  let xml: string
  try {
    xml = renderGoaml(draft, options)
  } catch (error) {
    if (error instanceof RiskError || error instanceof TypeError) return { xml: null, problems, schema: null }
    throw error
  }
  return { xml, problems, schema: await validateXml(xml, options) }
}
