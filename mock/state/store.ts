import { accessSync, closeSync, constants, existsSync, fdatasync, fdatasyncSync, fsyncSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { createRequire } from 'node:module';
import type BetterSqlite3 from 'better-sqlite3';
import { DUPLICATE_WINDOW_MS } from '../domain/transactions.js';
import { RECORD_KEYS, RECORD_KINDS, type Changes, type RecordKind } from './changes.js';
import { STATE_FORMAT, STATE_VERSION, userWithSecret, type StateDocument, type StateParts } from './document.js';

type Database = BetterSqlite3.Database;
type Statement = BetterSqlite3.Statement;

/** The fixtures a state grew from: `POST /__admin/reset` goes back to them, also after a restart. */
export interface StateOrigin {
  profile: 'default' | 'large';
  seed: number;
}

/** A state file that cannot be used, with a message that says why and what to do. */
export class StateFileError extends Error {}

const REGISTRY_KINDS = new Set<RecordKind>(['organizations', 'users', 'accounts', 'devices', 'bundles', 'transactions', 'cancellations', 'scheduled', 'measurements', 'issuanceRequests']);

// A table per kind of record, without an index on record ids: new rows are appended by rowid, and a record's
// rowid is looked up in memory, so a commit touches the tables' last pages and the pages of the rows it updates,
// not a random leaf of an index per row (with random UUIDs that was a 4 KB page of WAL per new record). A
// start-up reads each table in order, with nothing to sort out.
const SCHEMA = `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
  ${RECORD_KINDS.map((kind) => `CREATE TABLE "${kind}" (id TEXT NOT NULL, doc TEXT NOT NULL);`).join('\n  ')}
  CREATE TABLE recent_writes (key TEXT NOT NULL, at REAL NOT NULL);
  CREATE INDEX recent_writes_at ON recent_writes (at);
`;

/** The statements on one kind's table. */
interface KindTable {
  insert: Statement;
  update: Statement;
  remove: Statement;
  /** Each record's rowid by id; read from the table at the first write of the kind (a start-up does not pay for it). */
  rowids: Map<string, number> | undefined;
}

const requireModule = createRequire(import.meta.url);

/**
 * better-sqlite3, loaded only when a state file is used: it is a native
 * module, an optional peer dependency of the package (a development one in a
 * clone), so an install without it still runs the mock in memory. Its
 * package loads without its binary (an install whose build script did not
 * run or failed): an in-memory database opened once tells that apart from a
 * file that cannot be opened.
 */
function sqlite(): typeof BetterSqlite3 {
  try {
    const Database = requireModule('better-sqlite3') as typeof BetterSqlite3;
    new Database(':memory:').close();
    return Database;
  } catch (error) {
    throw new StateFileError(
      `--state needs better-sqlite3 12, an optional peer dependency that is not installed or not built here (${(error as Error).message.split('\n')[0]}). ` +
        'Install it beside grex-harness, its install script allowed (npm install --global --allow-scripts=better-sqlite3 better-sqlite3@12, or without --global in a project), or run the mock without --state (in memory).',
    );
  }
}

/**
 * Why the mock could not keep its state in `path`, or undefined: the file
 * (when it exists) must be readable and writable, and its directory writable
 * (SQLite creates the file and keeps a write-ahead log beside it).
 */
function notWritable(path: string): string | undefined {
  const directory = dirname(path);
  if (!existsSync(directory)) return `${path}: no such directory ${directory}`;
  const denied = (target: string, mode: number): string | undefined => {
    try {
      accessSync(target, mode);
      return undefined;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      return code === 'EACCES' || code === 'EPERM' ? 'permission denied' : code === 'EROFS' ? 'a read-only file system' : (error as Error).message;
    }
  };
  const file = existsSync(path) ? denied(path, constants.R_OK | constants.W_OK) : undefined;
  if (file) return `${path} is not writable (${file}): the mock writes every change to its state file; make it writable, or use another --state file`;
  const folder = denied(directory, constants.W_OK | constants.X_OK);
  if (folder) return `${path}: its directory ${directory} is not writable (${folder}): the state file and its write-ahead log are written there; make it writable, or use another --state file`;
  return undefined;
}

/**
 * The state file: SQLite in WAL mode, one row per record (a table per kind,
 * JSON documents with their id, in the order they were first written, so a
 * restart rebuilds maps in the same order), the duplicate-write
 * fingerprints (appended; the newest of a key wins), and the registry's
 * fields, the clock, fair use and the firewall in `meta`.
 *
 * Durability: `synchronous = NORMAL`, so a commit returns once its frames
 * are in the WAL (the operating system's cache: a killed process loses
 * nothing), and SQLite fsyncs only around checkpoints; then `sync` fsyncs the
 * WAL on libuv's thread pool, and the mock answers the commit's writes when
 * that returns. That is FULL's promise (an answered write survives a power
 * loss or a kernel crash) without the event loop waiting for the disk, which
 * FULL would do inside every COMMIT. The file is held with an exclusive lock:
 * a second mock on the same file is refused.
 */
export class StateStore {
  private readonly tables = new Map<RecordKind, KindTable>();
  private readonly remember: Statement;
  private readonly forget: Statement;
  private readonly setMeta: Statement;
  /** The WAL, opened once it exists (SQLite keeps it, and reuses it from the start after a checkpoint, while it holds the file). */
  private wal: number | undefined;

  private constructor(
    private readonly db: Database,
    readonly path: string,
  ) {
    for (const kind of RECORD_KINDS) {
      this.tables.set(kind, {
        insert: db.prepare(`INSERT INTO "${kind}" (id, doc) VALUES (?, ?)`),
        update: db.prepare(`UPDATE "${kind}" SET doc = ? WHERE rowid = ?`),
        remove: db.prepare(`DELETE FROM "${kind}" WHERE rowid = ?`),
        rowids: undefined,
      });
    }
    this.remember = db.prepare('INSERT INTO recent_writes (key, at) VALUES (?, ?)');
    this.forget = db.prepare('DELETE FROM recent_writes WHERE at < ?');
    this.setMeta = db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
  }

  /** Writes a record's row: appended when new, else updated in place. */
  private put(kind: RecordKind, id: string, doc: string): void {
    const table = this.tables.get(kind) as KindTable;
    const rowids = this.rowidsOf(kind, table);
    const rowid = rowids.get(id);
    if (rowid !== undefined) table.update.run(doc, rowid);
    else rowids.set(id, Number(table.insert.run(id, doc).lastInsertRowid));
  }

  private rowidsOf(kind: RecordKind, table: KindTable): Map<string, number> {
    if (!table.rowids) {
      table.rowids = new Map();
      for (const [rowid, id] of this.db.prepare(`SELECT rowid, id FROM "${kind}"`).raw().iterate() as IterableIterator<[number, string]>) table.rowids.set(id, rowid);
    }
    return table.rowids;
  }

  /**
   * Opens (or creates) a state file. An existing one is read whole before the
   * mock starts: its state and the fixtures it grew from; a file of another
   * format version, or not a state file at all, is refused before anything
   * of it is used or changed.
   */
  static open(path: string): { store: StateStore; loaded?: { document: StateDocument; origin: StateOrigin } } {
    const Database = sqlite();
    const existed = existsSync(path) && statSync(path).size > 0;
    // SQLite would open a file it cannot write read-only and fail later with "disk I/O error" or "attempt to write a readonly database".
    const refusal = notWritable(path);
    if (refusal) throw new StateFileError(refusal);
    let db: Database;
    try {
      db = new Database(path, { timeout: 1000 });
    } catch (error) {
      throw new StateFileError(`${path}: cannot be opened (${(error as Error).message})`);
    }
    try {
      // Exclusive: the file is this mock's until it stops (also no shared-memory index beside the WAL).
      db.pragma('locking_mode = EXCLUSIVE');
      const version = db.pragma('user_version', { simple: true }) as number;
      const tables = (db.prepare('SELECT count(*) AS n FROM sqlite_master').get() as { n: number }).n;
      const empty = version === 0 && tables === 0;
      if (existed && !empty && version !== STATE_VERSION) {
        throw new StateFileError(
          version === 0 && tables > 0
            ? `${path} is an SQLite database, but not a grex-harness state file`
            : `${path} was written in state format version ${version}; this grex-harness reads version ${STATE_VERSION}. Start with another --state file, or move the state over with a snapshot (grex-harness snapshot save|load)`,
        );
      }
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      if (empty) {
        db.transaction(() => {
          db.exec(SCHEMA);
          db.pragma(`user_version = ${STATE_VERSION}`);
          db.prepare('INSERT INTO meta (key, value) VALUES (?, ?)').run('format', STATE_FORMAT);
        })();
      }
      const store = new StateStore(db, path);
      return { store, loaded: store.load() };
    } catch (error) {
      db.close();
      if (error instanceof StateFileError) throw error;
      const message = (error as Error).message;
      if (/not a database/i.test(message)) throw new StateFileError(`${path} is not a grex-harness state file (not an SQLite database)`);
      if (/locked|busy/i.test(message)) throw new StateFileError(`${path} is in use by another process (another grex-harness mock?)`);
      if (/readonly|disk I\/O error/i.test(message)) throw new StateFileError(`${path} cannot be written (${message}): the mock writes every change to its state file, and a write-ahead log beside it`);
      throw new StateFileError(`${path}: ${message}`);
    }
  }

  /** Replaces everything in the file with a document, in one transaction. */
  writeAll(document: StateDocument, origin: StateOrigin): void {
    this.db.transaction(() => {
      for (const [kind, table] of this.tables) {
        this.db.exec(`DELETE FROM "${kind}"`);
        table.rowids = new Map();
      }
      this.db.exec('DELETE FROM recent_writes');
      const { registry, b2c } = document;
      for (const kind of RECORD_KINDS) {
        const key = RECORD_KEYS[kind];
        const records = (REGISTRY_KINDS.has(kind) ? registry[kind as keyof typeof registry] : b2c[kind as keyof typeof b2c]) as unknown as Record<string, string>[];
        for (const record of records) this.put(kind, record[key], JSON.stringify(record));
      }
      for (const [key, at] of registry.recentWrites) this.remember.run(key, at);
      this.setMeta.run('origin', JSON.stringify(origin));
      this.setMeta.run('issuingBody', JSON.stringify(registry.issuingBody));
      this.setMeta.run('codeLists', JSON.stringify(registry.codeLists));
      this.setMeta.run('auctions', JSON.stringify(registry.auctions));
      this.setMeta.run('nextCertificate', String(registry.nextCertificate));
      this.setMeta.run('clock', JSON.stringify({ now: document.clock, wall: new Date().toISOString() }));
      this.setMeta.run('fairUse', JSON.stringify(document.fairUse));
      this.setMeta.run('firewall', JSON.stringify(document.firewall));
    })();
  }

  /** Writes what changed, in one transaction: every record noted, removed MFA codes, fingerprints, fields, the clock. */
  commit(changes: Changes, { registry, b2c, clock }: StateParts): void {
    this.db.transaction(() => {
      for (const [kind, records] of changes.records) {
        if (records.size === 0) continue;
        const key = RECORD_KEYS[kind];
        for (const record of records) {
          // An MFA code noted and used (or replaced) in the same batch: the removal below decides.
          if (kind === 'mfaCodes' && b2c.mfaCodes.get((record as { userId: string }).userId) !== record) continue;
          const row = kind === 'users' ? userWithSecret(registry, record as never) : record;
          this.put(kind, (record as Record<string, string>)[key], JSON.stringify(row));
        }
      }
      const mfa = this.tables.get('mfaCodes') as KindTable;
      for (const userId of changes.removed.get('mfaCodes') ?? []) {
        const live = b2c.mfaCodes.get(userId);
        const rowids = this.rowidsOf('mfaCodes', mfa);
        const rowid = rowids.get(userId);
        if (live) this.put('mfaCodes', userId, JSON.stringify(live));
        else if (rowid !== undefined) {
          mfa.remove.run(rowid);
          rowids.delete(userId);
        }
      }
      if (changes.recentWrites.size > 0) {
        for (const key of changes.recentWrites) {
          const at = registry.recentWrites.get(key);
          if (at !== undefined) this.remember.run(key, at);
        }
        this.forget.run(clock.now() - DUPLICATE_WINDOW_MS);
      }
      if (changes.nextCertificate) this.setMeta.run('nextCertificate', String(registry.nextCertificate));
      if (changes.codeLists) this.setMeta.run('codeLists', JSON.stringify(registry.codeLists));
      if (changes.clock) this.setMeta.run('clock', JSON.stringify({ now: clock.iso(), wall: new Date().toISOString() }));
    })();
  }

  /** Fair-use windows and firewall violations: they change with every request, reads included, so they are saved apart, at most once a second. */
  saveLimits({ fairUse, firewall }: Pick<StateParts, 'fairUse' | 'firewall'>): void {
    this.db.transaction(() => {
      this.setMeta.run('fairUse', JSON.stringify(fairUse.exportState()));
      this.setMeta.run('firewall', JSON.stringify(firewall.exportState()));
    })();
  }

  /** Makes every commit so far durable, off the event loop: `done` is called once the WAL is on the disk. */
  sync(done: (error: Error | null) => void): void {
    fdatasync(this.walFile(), done);
  }

  /** As `sync`, waiting (start-up, whole-state writes, shutdown). */
  syncNow(): void {
    fdatasyncSync(this.walFile());
  }

  close(): void {
    if (this.wal !== undefined) closeSync(this.wal);
    this.wal = undefined;
    // Closing checkpoints the WAL into the file (fsynced) and removes it.
    if (this.db.open) this.db.close();
  }

  private walFile(): number {
    if (this.wal === undefined) {
      this.wal = openSync(`${this.path}-wal`, 'r');
      // The WAL was just created: its name must survive a power loss too.
      const directory = openSync(dirname(this.path), 'r');
      fsyncSync(directory);
      closeSync(directory);
    }
    return this.wal;
  }

  /**
   * The whole file as a document, read in one transaction; the clock has run
   * on by the time that passed since it was saved. The transaction is a
   * writer's (IMMEDIATE), which in exclusive locking mode keeps the file
   * locked from now on: a second mock on it stops here, and a file refused
   * here is left exactly as it was.
   */
  private load(): { document: StateDocument; origin: StateOrigin } | undefined {
    return this.db.transaction(() => {
      const meta = new Map((this.db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map((row) => [row.key, row.value]));
      if (meta.get('format') !== STATE_FORMAT) throw new StateFileError(`${this.path} is not a grex-harness state file (no format mark)`);
      // Created, but the mock stopped before its first state was written (the origin comes with it): nothing to continue from.
      if (!meta.has('origin')) return undefined;
      // A record that is not JSON (an edit by hand, a damaged disk) is named: the file is refused, nothing of it used.
      const parsed = (text: string, where: string): unknown => {
        try {
          return JSON.parse(text);
        } catch (error) {
          throw new StateFileError(`${this.path} has a damaged record (${where}: ${(error as Error).message}); nothing of it is used`);
        }
      };
      const json = <T>(key: string): T => {
        const value = meta.get(key);
        if (value === undefined) throw new StateFileError(`${this.path} is incomplete: it has no ${key}`);
        return parsed(value, `meta ${key}`) as T;
      };
      const arrays = new Map<string, unknown[]>();
      for (const kind of RECORD_KINDS) {
        const list: unknown[] = [];
        const key = RECORD_KEYS[kind];
        for (const [rowid, id, doc] of this.db.prepare(`SELECT rowid, id, doc FROM "${kind}" ORDER BY rowid`).raw().iterate() as IterableIterator<[number, string, string]>) {
          const record = parsed(doc, `${kind}, row ${rowid}`) as Record<string, unknown> | null;
          if (typeof record !== 'object' || record === null || record[key] !== id) {
            throw new StateFileError(`${this.path} has a damaged record (${kind}, row ${rowid}: not a record with ${key} ${JSON.stringify(id)}); nothing of it is used`);
          }
          list.push(record);
        }
        arrays.set(kind, list);
      }
      const clock = json<{ now: string; wall: string }>('clock');
      const now = Date.parse(clock?.now) + (Date.now() - Date.parse(clock?.wall));
      if (Number.isNaN(now)) throw new StateFileError(`${this.path} has a damaged record (meta clock: not two instants); nothing of it is used`);
      const of = <K extends RecordKind>(kind: K): never => arrays.get(kind) as never;
      const document: StateDocument = {
        format: STATE_FORMAT,
        version: STATE_VERSION,
        clock: new Date(now).toISOString(),
        registry: {
          issuingBody: json('issuingBody'),
          organizations: of('organizations'),
          users: of('users'),
          accounts: of('accounts'),
          devices: of('devices'),
          bundles: of('bundles'),
          transactions: of('transactions'),
          cancellations: of('cancellations'),
          scheduled: of('scheduled'),
          measurements: of('measurements'),
          issuanceRequests: of('issuanceRequests'),
          codeLists: json('codeLists'),
          auctions: json('auctions'),
          nextCertificate: json('nextCertificate'),
          recentWrites: this.db.prepare('SELECT key, max(at) FROM recent_writes GROUP BY key ORDER BY 2').raw().all() as [string, number][],
        },
        b2c: { authorizationCodes: of('authorizationCodes'), refreshTokens: of('refreshTokens'), mfaCodes: of('mfaCodes') },
        fairUse: json('fairUse'),
        firewall: json('firewall'),
      };
      return { document, origin: json<StateOrigin>('origin') };
    }).immediate();
  }
}
