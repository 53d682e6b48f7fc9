/**
 * The normalised shape every list loader produces, whatever the source format (OFAC legacy CSV,
 * UN XML, EU CSV, a PEP or internal watchlist). Matching reads only these types.
 *
 * Example (OFAC SDN entry 306):
 *   { listId: 'ofac-sdn', listVersion: 'sha256:3f0c…', entryId: '306', type: 'entity',
 *     names: [{ full: 'BANCO NACIONAL DE CUBA', parts: ['BANCO NACIONAL DE CUBA'], kind: 'primary' },
 *             { full: 'NATIONAL BANK OF CUBA', parts: [...], kind: 'alias' },
 *             { full: 'BNC', parts: ['BNC'], kind: 'weak-alias' }],
 *     datesOfBirth: [], countries: ['CH', 'CU'], programs: ['CUBA'] }
 */
export const ENTRY_TYPES = ['individual', 'entity', 'vessel', 'aircraft'] as const
export type EntryType = (typeof ENTRY_TYPES)[number]

/**
 * primary: the listed name. alias: a good-quality a.k.a./f.k.a./n.k.a. weak-alias: what the
 * publisher itself marks as low quality (OFAC's quoted a.k.a. in remarks, UN quality "Low"); it
 * scores a little lower because such names are often short or generic.
 */
export const NAME_KINDS = ['primary', 'alias', 'weak-alias'] as const
export type NameKind = (typeof NAME_KINDS)[number]

export interface EntryName {
  /** The name as the list writes it, in the list's order (e.g. 'HUSSEIN AL-TIKRITI, Saddam'). */
  readonly full: string
  /** The parts the list gives separately (UN first/second/third name, OFAC 'LAST, First'); [full] otherwise. */
  readonly parts: readonly string[]
  readonly kind: NameKind
}

/**
 * A date of birth as lists give it: often only a year, sometimes a range ('1955 to 1958'),
 * sometimes approximate ('circa 1960'). month and day are null when not given.
 */
export interface DateOfBirth {
  readonly fromYear: number
  readonly toYear: number
  readonly month: number | null
  readonly day: number | null
  readonly approximate: boolean
}

export interface ListEntry {
  readonly listId: string
  readonly listVersion: string
  /** The publisher's id for the entry (OFAC ent_num, UN DATAID, EU logical id, your own id). */
  readonly entryId: string
  /**
   * Hash of the entry's content (names, type, dates, countries, programs): it changes exactly when
   * the entry does, whatever else changed in the file, so a remembered false-match verdict can be
   * tied to the version of the entry it was given for.
   */
  readonly entryVersion: string
  readonly type: EntryType
  readonly names: readonly EntryName[]
  readonly datesOfBirth: readonly DateOfBirth[]
  /** ISO 3166-1 alpha-2 codes of nationality, citizenship and address countries; names not recognised are dropped. */
  readonly countries: readonly string[]
  /** Sanctions programmes or regimes (OFAC program, UN list type, EU regime, PEP category). */
  readonly programs: readonly string[]
}

/**
 * The version of one list: a content hash of the files it was read from, plus the publication
 * date when the file states one (UN dateGenerated, EU file generation date). Two loads of the
 * same bytes have the same version.
 */
export interface ListVersion {
  readonly listId: string
  /** 'sha256:<hex>' over the source files, in the order the loader reads them. */
  readonly contentHash: string
  /** ISO date (YYYY-MM-DD) the publisher dates the file with, or null (OFAC's legacy CSV carries none). */
  readonly publishedDate: string | null
  /** `${publishedDate}@${first 12 hex of the hash}`, or `sha256:${first 12 hex}` without a date. */
  readonly version: string
}

export interface LoadedList {
  readonly version: ListVersion
  readonly entries: readonly ListEntry[]
}
