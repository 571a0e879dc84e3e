/**
 * The records the state file keeps one row each for, by kind, and the field
 * that names a record of that kind. The registry's kinds are the names of
 * `RegistryData` (and of a snapshot's `registry` section); B2C's are its grants.
 */
export const RECORD_KEYS = {
  organizations: 'organizationId',
  users: 'userId',
  accounts: 'accountNumber',
  devices: 'gsrn',
  bundles: 'bundleId',
  transactions: 'transactionId',
  cancellations: 'transactionId',
  scheduled: 'scheduledTransactionId',
  measurements: 'measurementDataId',
  issuanceRequests: 'issuanceRequestId',
  authorizationCodes: 'code',
  refreshTokens: 'token',
  mfaCodes: 'userId',
} as const;

export type RecordKind = keyof typeof RECORD_KEYS;
export const RECORD_KINDS = Object.keys(RECORD_KEYS) as RecordKind[];

/**
 * What the mock changed since the state file's last commit. The domain notes
 * every record it creates or changes (`Registry.touch`, `B2CService.touch`),
 * so a commit writes those rows and no others: a transfer is four rows, not
 * the registry. Without `--state` nothing holds a `Changes`, and noting is
 * one property read.
 */
export class Changes {
  readonly records = new Map<RecordKind, Set<object>>(RECORD_KINDS.map((kind) => [kind, new Set<object>()]));
  /** Keys of records that are gone (an MFA code once used). */
  readonly removed = new Map<RecordKind, Set<string>>(RECORD_KINDS.map((kind) => [kind, new Set<string>()]));
  /** Duplicate-write fingerprints remembered (the registry's `recentWrites`). */
  readonly recentWrites = new Set<string>();
  /** The registry's own fields: the next certificate number to issue, the code lists. */
  nextCertificate = false;
  codeLists = false;
  clock = false;
  /** Anything at all since the last commit: answers wait for the commit while it is set. */
  dirty = false;

  note(kind: RecordKind, record: object): void {
    (this.records.get(kind) as Set<object>).add(record);
    this.dirty = true;
  }

  remove(kind: RecordKind, key: string): void {
    (this.removed.get(kind) as Set<string>).add(key);
    this.dirty = true;
  }

  rememberWrite(key: string): void {
    this.recentWrites.add(key);
    this.dirty = true;
  }

  field(name: 'nextCertificate' | 'codeLists'): void {
    this[name] = true;
    this.dirty = true;
  }

  clockMoved(): void {
    this.clock = true;
    this.dirty = true;
  }

  clear(): void {
    for (const set of this.records.values()) set.clear();
    for (const set of this.removed.values()) set.clear();
    this.recentWrites.clear();
    this.nextCertificate = false;
    this.codeLists = false;
    this.clock = false;
    this.dirty = false;
  }
}
