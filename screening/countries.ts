/**
 * Country names as sanctions lists write them → ISO 3166-1 alpha-2, so list countries compare
 * with the player's `country` (alpha-2). English names come from the runtime's ICU data
 * (Intl.DisplayNames, the CLDR names) for every assigned code; VARIANTS adds the forms the lists
 * use that CLDR does not ('Korea, North', 'Burma', 'Iran (Islamic Republic of)', adjectives).
 *
 * Example: countryCode('Korea, North') === 'KP'; countryCode('Democratic Republic of the Congo') === 'CD'
 */
const VARIANTS: Readonly<Record<string, string>> = {
  'korea north': 'KP', 'north korea': 'KP', "democratic people s republic of korea": 'KP', 'korea democratic people s republic of': 'KP',
  'korea south': 'KR', 'south korea': 'KR', 'republic of korea': 'KR', 'korea republic of': 'KR',
  burma: 'MM', 'iran islamic republic of': 'IR', 'syrian arab republic': 'SY', 'russian federation': 'RU',
  'united kingdom of great britain and northern ireland': 'GB', 'great britain': 'GB', england: 'GB',
  'united states of america': 'US', usa: 'US', 'viet nam': 'VN', turkiye: 'TR', 'republic of moldova': 'MD',
  'moldova republic of': 'MD', 'lao people s democratic republic': 'LA', 'bolivia plurinational state of': 'BO',
  'venezuela bolivarian republic of': 'VE', 'tanzania united republic of': 'TZ', 'united republic of tanzania': 'TZ',
  'congo democratic republic of the': 'CD', 'democratic republic of the congo': 'CD', 'congo republic of the': 'CG',
  'republic of the congo': 'CG', congo: 'CG', 'cote d ivoire': 'CI', 'ivory coast': 'CI', 'the gambia': 'GM', gambia: 'GM',
  'west bank': 'PS', gaza: 'PS', 'gaza strip': 'PS', 'palestinian territories': 'PS', 'state of palestine': 'PS', palestine: 'PS',
  'bosnia and herzegovina': 'BA', 'bosnia herzegovina': 'BA', macedonia: 'MK', 'north macedonia': 'MK', 'the former yugoslav republic of macedonia': 'MK',
  'czech republic': 'CZ', swaziland: 'SZ', 'cabo verde': 'CV', 'cape verde': 'CV', 'netherlands antilles': 'CW', 'holy see': 'VA',
  'micronesia federated states of': 'FM', 'saint kitts and nevis': 'KN', 'st kitts and nevis': 'KN', 'saint vincent and the grenadines': 'VC',
  'hong kong': 'HK', macau: 'MO', macao: 'MO', taiwan: 'TW', 'taiwan province of china': 'TW', kosovo: 'XK', 'region kosovo': 'XK',
  crimea: 'UA', 'the netherlands': 'NL', 'united arab emirates': 'AE', uae: 'AE', 'sudan south': 'SS', 'south sudan': 'SS',
  // Adjectives OFAC and the UN use for nationality.
  afghan: 'AF', algerian: 'DZ', american: 'US', bahraini: 'BH', british: 'GB', chinese: 'CN', colombian: 'CO', cuban: 'CU',
  egyptian: 'EG', emirati: 'AE', french: 'FR', german: 'DE', indian: 'IN', indonesian: 'ID', iranian: 'IR', iraqi: 'IQ',
  jordanian: 'JO', kenyan: 'KE', kuwaiti: 'KW', lebanese: 'LB', libyan: 'LY', malian: 'ML', mexican: 'MX', moroccan: 'MA',
  nigerian: 'NG', pakistani: 'PK', palestinian: 'PS', filipino: 'PH', qatari: 'QA', russian: 'RU', saudi: 'SA', 'saudi arabian': 'SA',
  somali: 'SO', sudanese: 'SD', syrian: 'SY', tunisian: 'TN', turkish: 'TR', ukrainian: 'UA', venezuelan: 'VE', yemeni: 'YE',
}

export function normaliseCountryName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .toLowerCase()
    .replace(/[^a-z]+/g, ' ')
    .trim()
}

/** Codes ICU still names that are not current countries (Soviet Union → 'Russia' would shadow RU). */
const RETIRED_OR_GROUPS = new Set(['SU', 'BU', 'DD', 'FX', 'TP', 'YU', 'ZR', 'CS', 'NT', 'UK', 'EU', 'EZ', 'UN', 'QO', 'AN', 'XA', 'XB', 'ZZ'])

function buildTable(): ReadonlyMap<string, string> {
  const table = new Map<string, string>()
  const displayNames = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' })
  const letters = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'
  for (const first of letters) {
    for (const second of letters) {
      const code = `${first}${second}`
      const name = displayNames.of(code)
      if (name === undefined || name === code || RETIRED_OR_GROUPS.has(code)) continue
      // 'Congo - Kinshasa', 'Myanmar (Burma)': keep the whole name and its part before the qualifier.
      table.set(normaliseCountryName(name), code)
      const base = name.split(/ - | \(/)[0]
      if (base !== undefined && !table.has(normaliseCountryName(base))) table.set(normaliseCountryName(base), code)
      const inBrackets = /\(([^)]+)\)/.exec(name)?.[1]
      if (inBrackets !== undefined) table.set(normaliseCountryName(inBrackets), code)
    }
  }
  table.set('congo', 'CG') // the bare name is the Republic of the Congo, not the DRC
  for (const [name, code] of Object.entries(VARIANTS)) table.set(name, code)
  return table
}

let table: ReadonlyMap<string, string> | undefined

/** ISO alpha-2 for a country name or adjective, or null when not recognised; an alpha-2 input is returned upper-cased. */
export function countryCode(name: string): string | null {
  table ??= buildTable()
  const trimmed = name.trim()
  if (/^[A-Za-z]{2}$/.test(trimmed)) return trimmed.toUpperCase()
  return table.get(normaliseCountryName(trimmed)) ?? null
}
