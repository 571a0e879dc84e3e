import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Exchange } from '../journal.js';
import type { Outcome } from '../outcome.js';
import { Changes } from './changes.js';
import type { StateDocument, StateParts } from './document.js';
import type { StateOrigin, StateStore } from './store.js';

/** The mock as the state file sees it: where the state is, and how an answer goes out. */
export interface DurableHost extends StateParts {
  /** Sends an answer and journals its exchange. */
  finish(req: IncomingMessage, res: ServerResponse, outcome: Outcome, exchange: Exchange | undefined, started: number): void;
}

interface Held {
  req: IncomingMessage;
  res: ServerResponse;
  outcome: Outcome;
  exchange: Exchange | undefined;
  started: number;
  /** The commit whose sync lets this answer go. */
  commit: number;
}

/** Fair-use windows and firewall violations are saved at most this often: they change with every request, reads included. */
const LIMITS_EVERY_MS = 1000;

/** What a mock whose state file failed answers to everything, until it stops. */
const UNWRITABLE: Outcome = {
  status: 500,
  body: { statusCode: 500, responseCode: 'SYSTEM_001', responseMessage: 'The registry could not record the change: its state file cannot be written. The mock is stopping.' },
  code: 'SYSTEM_001',
};

/**
 * Group commit. The domain notes what each request changed (`Changes`);
 * while anything is noted, answers are held. Once the event loop has handled
 * every request that arrived in this turn, one transaction writes all their
 * changes, and one fsync (off the event loop, at most one at a time: the
 * commits made while it runs share the next) makes them durable; only then
 * are they answered. So an answer never reports, or shows, a change that is
 * not on the disk, writes that arrive together share the cost of the disk,
 * and the event loop goes on with the next requests while the disk works.
 * Reads are answered at once, as without a state file, whenever nothing is
 * waiting for the disk.
 */
export class DurableState {
  readonly changes = new Changes();
  private held: Held[] = [];
  /** Answers of committed batches, oldest first, waiting for a sync. */
  private waiting: Held[] = [];
  private scheduled = false;
  private broken = false;
  /** Commits written, and the last one a finished sync covers. */
  private committed = 0;
  private durable = 0;
  private syncing = false;
  private closed = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    readonly store: StateStore,
    private readonly host: DurableHost,
    private origin: StateOrigin,
    /** The file cannot be written any more: the mock must stop (it cannot take back what it changed in memory). */
    private readonly onFailure: (error: Error) => void,
  ) {
    this.timer = setInterval(() => this.saveLimits(), LIMITS_EVERY_MS);
    this.timer.unref();
  }

  /** Whether an answer now has to wait: something is changed and not yet on the disk. */
  get holding(): boolean {
    return this.changes.dirty || this.held.length > 0 || this.committed > this.durable || this.broken;
  }

  hold(req: IncomingMessage, res: ServerResponse, outcome: Outcome, exchange: Exchange | undefined, started: number): void {
    if (this.broken) return this.host.finish(req, res, UNWRITABLE, exchange, started);
    this.held.push({ req, res, outcome, exchange, started, commit: 0 });
    if (!this.scheduled) {
      this.scheduled = true;
      // After the I/O callbacks of this turn: every request that arrived with this one is handled first, and shares the commit.
      setImmediate(this.release);
    }
  }

  /** Writes what changed now and waits for the disk (start-up, shutdown). */
  commit(): void {
    if (this.writeChanges()) {
      this.store.syncNow();
      this.durable = this.committed;
    }
  }

  /** Replaces the whole file with a document (reset, restore, a new file), durably; throws, changing nothing, when it cannot. */
  writeAll(document: StateDocument, origin: StateOrigin = this.origin): void {
    this.store.writeAll(document, origin);
    this.store.syncNow();
    this.origin = origin;
    this.changes.clear();
    this.host.fairUse.changed = false;
    this.host.firewall.changed = false;
  }

  /** Everything still pending goes to the file, which is then closed. */
  close(): void {
    clearInterval(this.timer);
    if (this.broken || this.closed) return;
    this.closed = true;
    this.commit();
    this.saveLimits();
    this.answer(this.waiting.splice(0).concat(this.held.splice(0)));
    this.store.close();
  }

  /** One transaction for everything noted since the last; whether there was anything. */
  private writeChanges(): boolean {
    if (!this.changes.dirty) return false;
    this.store.commit(this.changes, this.host);
    this.changes.clear();
    this.committed++;
    return true;
  }

  private readonly release = (): void => {
    this.scheduled = false;
    const held = this.held;
    this.held = [];
    if (!this.broken) {
      try {
        this.writeChanges();
      } catch (error) {
        this.fail(error as Error);
      }
    }
    if (this.broken) return this.answer(held);
    // Answers without changes of their own wait for the commits before them: they may show what those changed.
    for (const answer of held) answer.commit = this.committed;
    if (this.committed === this.durable) return this.answer(held);
    this.waiting.push(...held);
    if (!this.syncing) this.sync();
  };

  /** One fsync for every commit so far; the answers it covers go out, and the commits made meanwhile get the next. */
  private sync(): void {
    const covers = this.committed;
    this.syncing = true;
    this.store.sync((error) => {
      this.syncing = false;
      // Closing synced everything and answered every write already.
      if (this.closed) return;
      if (error) return this.fail(error);
      this.durable = covers;
      let ready = 0;
      while (ready < this.waiting.length && this.waiting[ready].commit <= covers) ready++;
      this.answer(this.waiting.splice(0, ready));
      if (this.committed > this.durable) this.sync();
    });
  }

  private answer(held: Held[]): void {
    for (const answer of held) this.host.finish(answer.req, answer.res, this.broken ? UNWRITABLE : answer.outcome, answer.exchange, answer.started);
  }

  private saveLimits(): void {
    const { fairUse, firewall } = this.host;
    if (this.broken || (!fairUse.changed && !firewall.changed)) return;
    fairUse.changed = false;
    firewall.changed = false;
    try {
      this.store.saveLimits(this.host);
    } catch (error) {
      this.fail(error as Error);
    }
  }

  private fail(error: Error): void {
    if (this.broken) return;
    this.broken = true;
    this.answer(this.waiting.splice(0));
    process.stderr.write(`grex-harness: the state file ${this.store.path} cannot be written (${error.message}); it holds every write answered before. Stopping.\n`);
    this.onFailure(error);
  }
}
