import { closeSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { MANUAL_LIMITS, type FairUseLimit as BudgetLimit } from '../../mock/fairuse.js';

export interface BudgetSettings {
  file: string;
  /** Whose windows: the target's address (G-REX counts per account holder; one run signs in one). */
  key: string;
  /** The share of each limit the suites may use, 0 < share <= 1. */
  share: number;
  limits: readonly BudgetLimit[];
}


interface RunRecord {
  key: string;
  startedAt: number;
  requests: number;
  pauses: number;
  pausedMs: number;
}

interface BudgetFile {
  /** Send times (epoch ms) per key, within the longest window. */
  calls: Record<string, number[]>;
  runs: Record<string, RunRecord>;
}

const LOCK_STALE_MS = 10_000;
const DAY_MS = 86_400_000;

/** The budget's settings from GREX_BUDGET_SHARE, GREX_BUDGET_LIMITS ("100/60,500/3600") and GREX_BUDGET_FILE; a one-line reason when malformed. */
export function budgetSettings(key: string, env: NodeJS.ProcessEnv = process.env): BudgetSettings | string {
  const share = env.GREX_BUDGET_SHARE === undefined ? 0.5 : Number(env.GREX_BUDGET_SHARE);
  if (!(share > 0 && share <= 1)) return `GREX_BUDGET_SHARE must be a number above 0 and at most 1 (a share of the fair-use limits), not "${env.GREX_BUDGET_SHARE}"`;
  let limits: readonly BudgetLimit[] = MANUAL_LIMITS;
  if (env.GREX_BUDGET_LIMITS !== undefined) {
    const parsed = env.GREX_BUDGET_LIMITS.split(',').map((part) => /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(part));
    if (parsed.length === 0 || parsed.some((match) => !match || Number(match[1]) < 1 || Number(match[2]) < 1)) {
      return `GREX_BUDGET_LIMITS must be requests/windowSeconds pairs such as "100/60,500/3600", not "${env.GREX_BUDGET_LIMITS}"`;
    }
    limits = parsed.map((match) => ({ requests: Number(match![1]), windowSeconds: Number(match![2]) }));
  }
  return { file: resolve(env.GREX_BUDGET_FILE ?? 'reports/fair-use-budget.json'), key, share, limits };
}

/** How many requests a window allows this run: the share, at least one. */
export const allowance = (settings: BudgetSettings, limit: BudgetLimit): number => Math.max(1, Math.floor(limit.requests * settings.share));

/**
 * A fair-use budget shared by every worker and every run within the longest
 * window, through one file: each request takes a slot first, and waits when
 * a window is full rather than letting the registry answer 429. The file is
 * locked while read and rewritten (workers are processes) and replaced
 * atomically, so a crash never leaves half a file.
 */
export class FairUseBudget {
  constructor(
    private readonly settings: BudgetSettings,
    private readonly runId: string,
  ) {}

  /** Takes a slot for one request, pausing until every window has room; resolves with the time paused. */
  async acquire(): Promise<number> {
    let paused = 0;
    for (;;) {
      const wait = this.update((state, now) => {
        const calls = state.calls[this.settings.key] ?? [];
        let wait = 0;
        for (const limit of this.settings.limits) {
          const allowed = allowance(this.settings, limit);
          const inWindow = calls.filter((at) => at > now - limit.windowSeconds * 1000);
          // The slot frees when the oldest call that fills the window leaves it.
          if (inWindow.length >= allowed) wait = Math.max(wait, inWindow[inWindow.length - allowed] + limit.windowSeconds * 1000 - now + 1);
        }
        if (wait > 0) return wait;
        state.calls[this.settings.key] = [...calls, now];
        const run = (state.runs[this.runId] ??= { key: this.settings.key, startedAt: now, requests: 0, pauses: 0, pausedMs: 0 });
        run.requests += 1;
        if (paused > 0) {
          run.pauses += 1;
          run.pausedMs += paused;
        }
        return 0;
      });
      if (wait === 0) return paused;
      paused += wait;
      await sleep(wait);
    }
  }

  /** What this run used, for the end of the run; undefined when it sent nothing through the budget. */
  summary(now = Date.now()): string | undefined {
    const state = this.read();
    const run = state.runs[this.runId];
    if (!run) return undefined;
    const calls = state.calls[this.settings.key] ?? [];
    const windows = this.settings.limits.map((limit) => {
      const ms = limit.windowSeconds * 1000;
      const peak = calls.reduce((most, at, index) => Math.max(most, calls.slice(0, index + 1).filter((other) => other > at - ms).length), 0);
      return `${peak} of ${allowance(this.settings, limit)} per ${limit.windowSeconds} s (now ${calls.filter((at) => at > now - ms).length})`;
    });
    const share = `${Math.round(this.settings.share * 100)}% of ${this.settings.limits.map((limit) => `${limit.requests}/${limit.windowSeconds} s`).join(' and ')}`;
    return (
      `fair-use budget for ${run.key} (${share}): peak ${windows.join(', ')}; ` +
      `this run ${run.requests} requests, paused ${run.pauses} time${run.pauses === 1 ? '' : 's'} (${(run.pausedMs / 1000).toFixed(1)} s); remembered in ${this.settings.file}`
    );
  }

  private read(): BudgetFile {
    try {
      const parsed = JSON.parse(readFileSync(this.settings.file, 'utf8')) as Partial<BudgetFile>;
      return { calls: parsed.calls ?? {}, runs: parsed.runs ?? {} };
    } catch {
      // No file yet. The file is only ever replaced whole (below), so an unreadable one was broken by hand: start afresh.
      return { calls: {}, runs: {} };
    }
  }

  private update<T>(change: (state: BudgetFile, now: number) => T): T {
    const lock = `${this.settings.file}.lock`;
    mkdirSync(dirname(this.settings.file), { recursive: true });
    let handle: number | undefined;
    const deadline = Date.now() + 2 * LOCK_STALE_MS;
    while (handle === undefined) {
      try {
        handle = openSync(lock, 'wx');
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST' || Date.now() > deadline) throw error;
        // A worker that died holding the lock leaves it behind; a live one holds it for milliseconds.
        try {
          if (Date.now() - statSync(lock).mtimeMs > LOCK_STALE_MS) rmSync(lock, { force: true });
        } catch {
          // It went away between the two calls.
        }
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 5);
      }
    }
    try {
      const state = this.read();
      const now = Date.now();
      const longest = Math.max(...this.settings.limits.map((limit) => limit.windowSeconds)) * 1000;
      for (const key of Object.keys(state.calls)) {
        state.calls[key] = state.calls[key].filter((at) => at > now - Math.max(longest, 3_600_000));
        if (state.calls[key].length === 0) delete state.calls[key];
      }
      for (const [id, run] of Object.entries(state.runs)) if (run.startedAt < now - DAY_MS) delete state.runs[id];
      const result = change(state, now);
      const temporary = `${this.settings.file}.${process.pid}.tmp`;
      writeFileSync(temporary, `${JSON.stringify(state)}\n`);
      renameSync(temporary, this.settings.file);
      return result;
    } finally {
      closeSync(handle);
      rmSync(lock, { force: true });
    }
  }
}
