/**
 * The console's one JavaScript bundle, built in memory with esbuild from `api/console/client/`
 * when the API starts (issue 8, item 4).
 *
 * Why at start and not a prebuilt file: nothing generated is checked in (the bundle carries
 * sigma and graphology, ~170 KB minified, which would churn every diff), the served code can
 * never lag behind its source, and esbuild (installed with tsx, which runs the API) builds it in
 * ~0.3 s. The build runs in the app's onReady hook, so a client that does not compile stops the
 * API from starting instead of failing an officer's first page load. One build per process.
 *
 * Example:
 *   const bundle = await buildConsoleBundle()
 *   bundle.javascript   // 'use strict';(()=>{ ... })()
 *   bundle.etag         // '"sha256-<base64url>"'
 */
import { createHash } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { RiskError } from '../../core/errors.js'

export interface ConsoleBundle {
  readonly javascript: string
  /** Strong ETag of the bundle, so a browser revalidates cheaply. */
  readonly etag: string
}

/** The client's entry point: the router that draws every page. */
export const CONSOLE_CLIENT_ENTRY = fileURLToPath(new URL('./client/main.ts', import.meta.url))

let building: Promise<ConsoleBundle> | null = null

async function compile(): Promise<ConsoleBundle> {
  let result
  try {
    result = await build({
      entryPoints: [CONSOLE_CLIENT_ENTRY],
      bundle: true,
      write: false,
      format: 'iife',
      platform: 'browser',
      target: 'es2020',
      minify: true,
      legalComments: 'none',
      logLevel: 'silent',
      // graphology and sigma check process.env.NODE_ENV for their warnings only.
      define: { 'process.env.NODE_ENV': '"production"' },
    })
  } catch (error) {
    throw new RiskError('RISK_ERR_CONFIG_INVALID', `the console's client code (${CONSOLE_CLIENT_ENTRY}) does not build: ${(error as Error).message}`, { entry: CONSOLE_CLIENT_ENTRY }, { cause: error })
  }
  const output = result.outputFiles[0]
  if (output === undefined) throw new RiskError('RISK_ERR_CONFIG_INVALID', `esbuild produced no output for ${CONSOLE_CLIENT_ENTRY}`)
  const javascript = output.text
  return { javascript, etag: `"sha256-${createHash('sha256').update(javascript).digest('base64url')}"` }
}

/** Builds the bundle once per process; a failed build is retried on the next call. */
export function buildConsoleBundle(): Promise<ConsoleBundle> {
  building ??= compile().catch((error: unknown) => {
    building = null
    throw error
  })
  return building
}
