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
 * while anything is noted, answers are held, and once the event loop has
 * handled every request that arrived in this turn, one transaction writes
 * all their changes (one fsync) and only then are they answered. So an
 * answer never reports, or shows, a change that is not in the file, and
 * writes that arrive together share the cost of the disk. Reads in a turn
 * without changes are answered at once, as without a state file.
 */
export class DurableState {
  readonly changes = new Changes();
  private held: Held[] = [];
  private scheduled = false;
  private broken = false;
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

  /** Whether an answer now has to wait for a commit. */
  get holding(): boolean {
    return this.changes.dirty || this.held.length > 0 || this.broken;
  }

  hold(req: IncomingMessage, res: ServerResponse, outcome: Outcome, exchange: Exchange | undefined, started: number): void {
    if (this.broken) return this.host.finish(req, res, UNWRITABLE, exchange, started);
    this.held.push({ req, res, outcome, exchange, started });
    if (!this.scheduled) {
      this.scheduled = true;
      // After the I/O callbacks of this turn: every request that arrived with this one is handled first, and shares the commit.
      setImmediate(this.release);
    }
  }

  /** Writes what changed now (start-up, shutdown). */
  commit(): void {
    if (!this.changes.dirty) return;
    this.store.commit(this.changes, this.host);
    this.changes.clear();
  }

  /** Replaces the whole file with a document (reset, restore, a new file); throws, changing nothing, when it cannot. */
  writeAll(document: StateDocument, origin: StateOrigin = this.origin): void {
    this.store.writeAll(document, origin);
    this.origin = origin;
    this.changes.clear();
    this.host.fairUse.changed = false;
    this.host.firewall.changed = false;
  }

  /** Everything still pending goes to the file, which is then closed. */
  close(): void {
    clearInterval(this.timer);
    if (this.broken) return;
    this.release();
    this.saveLimits();
    this.store.close();
  }

  private readonly release = (): void => {
    this.scheduled = false;
    let outcome: Outcome | undefined;
    if (!this.broken) {
      try {
        this.commit();
      } catch (error) {
        this.fail(error as Error);
      }
    }
    if (this.broken) outcome = UNWRITABLE;
    const held = this.held;
    this.held = [];
    for (const answer of held) this.host.finish(answer.req, answer.res, outcome ?? answer.outcome, answer.exchange, answer.started);
  };

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
    this.broken = true;
    process.stderr.write(`grex-harness: the state file ${this.store.path} cannot be written (${error.message}); it holds every write answered before. Stopping.\n`);
    this.onFailure(error);
  }
}
