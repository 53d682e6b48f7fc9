import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import { nodeArgs } from '../../infra/node-args.js'

describe('node flags', () => {
  it('are the ones package.json starts the long-running processes with (infra/node-args.ts)', () => {
    const { scripts } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string> }
    const entries: Record<string, string> = { engine: 'pipelines/main.ts', sink: 'sinks/main.ts', graph: 'pipelines/graph-main.ts', cases: 'cases/main.ts' }
    for (const [script, entry] of Object.entries(entries)) expect(scripts[script], script).toBe(['node', ...nodeArgs(entry)].join(' '))
  })
})
