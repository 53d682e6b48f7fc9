/**
 * Account-level precision and recall of the money-flow typologies on IBM AMLSim (issue 5).
 * One file per dataset so the two run in parallel. Floors sit a little under the measured
 * figures (docs/graph.md), so a regression fails.
 */
import path from 'node:path'
import { loadConfig } from '../../core/config.js'
import { describe, expect, it } from 'vitest'
import { AMLSIM_EVALUATION_PARAMS, loadAmlSim, readAmlSim, scoreTypology } from '../../graph/amlsim.js'
import { LinkGraph } from '../../graph/link-graph.js'

const DATA_FOLDER = path.join(loadConfig().referenceDataDir, 'aml')

describe('AMLSim evaluation: fan-in', () => {
  it('fan-in typology on amlsim-20k-fanin (200 planted fan-ins)', () => {
    const run = readAmlSim(`${DATA_FOLDER}/amlsim-20k-fanin`)
    const graph = new LinkGraph(AMLSIM_EVALUATION_PARAMS.fanInTuned)
    loadAmlSim(graph, run)
    const score = scoreTypology(graph.recompute().alerts, 'fan_in', run.fraudAccounts)
    expect(score.precision).toBeGreaterThanOrEqual(0.95) // measured 1.000
    expect(score.recall).toBeGreaterThanOrEqual(0.55) // measured 0.606
  })
})
