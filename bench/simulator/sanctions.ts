/**
 * One real name from the OFAC SDN list in the reference data, for the planted "sanctioned name"
 * typology. The list's individuals are written "LAST, First Middle"; the seed picks one.
 * Reading the file is the only I/O of the simulator, kept out of the generator so that stays pure.
 *
 * Example: loadSanctionedName(loadConfig().referenceDataDir, 7) -> { firstName: 'Manal', lastName: 'AL-ASSAD', dateOfBirth: '1970-02-02' }
 */
import fs from 'node:fs'
import path from 'node:path'
import { RiskError } from '../../core/errors.js'
import { SeededRandom } from './random.js'
import type { SanctionedName } from './typologies.js'

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

export const SDN_LIST_PATH = path.join('sanctions', 'ofac-sdn-2021', 'sdn.csv')

export function loadSanctionedName(referenceDataDir: string, seed: number): SanctionedName {
  const filePath = path.join(referenceDataDir, SDN_LIST_PATH)
  if (!fs.existsSync(filePath)) throw new RiskError('RISK_ERR_CONFIG_INVALID', `the OFAC SDN list is not at ${filePath}; set PITBOSS_REFERENCE_DATA_DIR to the folder holding ${SDN_LIST_PATH}`, { path: filePath })
  const names: SanctionedName[] = []
  // Rows: ent_num,"SDN_Name","SDN_Type",...,"Remarks"; only individuals written with a comma split
  // into last and first names. The remarks give an exact date of birth as "DOB 02 Feb 1970".
  for (const match of fs.readFileSync(filePath, 'latin1').matchAll(/^\d+,"([^",]+), ([^"]+)","individual".*$/gm)) {
    const born = /DOB (\d{2}) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4})[;."]/.exec(match[0])
    const month = born === null ? 0 : MONTHS.indexOf(born[2] as string) + 1
    names.push({ lastName: match[1] as string, firstName: match[2] as string, dateOfBirth: born === null ? null : `${born[3]}-${String(month).padStart(2, '0')}-${born[1]}` })
  }
  if (names.length === 0) throw new RiskError('RISK_ERR_CONFIG_INVALID', `no individual found in ${filePath}; is it the OFAC SDN CSV?`, { path: filePath })
  return new SeededRandom(seed).fork('sanctioned-name').pick(names)
}
