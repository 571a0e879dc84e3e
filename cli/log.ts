import type { Decision, Exchange, Stage } from '../mock/journal.js';

/**
 * `--log json` for the mock and the proxy: one JSON object a line on stdout,
 * for a log collector or `jq`. Events: `start` (where it listens, what it
 * serves), `exchange` (one per journaled exchange: what was asked, what was
 * answered, which stage refused it), `shutdown` (the signal, the totals and
 * refusals by stage). The human banner goes to stderr, so that stdout stays
 * one object a line.
 */
export class JsonLog {
  private exchanges = 0;
  private readonly refusals: Partial<Record<Stage, number>> = {};
  private readonly errors: Partial<Record<Stage, number>> = {};

  constructor(private readonly source: 'mock' | 'proxy') {}

  write(event: string, fields: Record<string, unknown>): void {
    process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), source: this.source, event, ...fields })}\n`);
  }

  /** The journal's observer. */
  readonly exchange = (exchange: Exchange): void => {
    this.exchanges++;
    let stopped: Decision | undefined;
    for (const decision of exchange.decisions) {
      if (decision.outcome === 'pass') continue;
      stopped = decision;
      break;
    }
    if (stopped) {
      const counts = stopped.outcome === 'reject' ? this.refusals : this.errors;
      counts[stopped.stage] = (counts[stopped.stage] ?? 0) + 1;
    }
    this.write('exchange', {
      id: exchange.id,
      at: exchange.startedAt,
      client: exchange.client,
      method: exchange.request.method,
      url: exchange.request.url,
      status: exchange.response.status,
      ms: Math.round(exchange.durationMs * 10) / 10,
      operationId: exchange.operationId,
      user: exchange.user,
      organization: exchange.organization,
      ...(stopped ? { [stopped.outcome === 'reject' ? 'refused' : 'error']: { stage: stopped.stage, code: stopped.code, detail: stopped.detail } } : {}),
    });
  };

  /** The last line, written out before it resolves. */
  shutdown(fields: Record<string, unknown>): Promise<void> {
    const line = JSON.stringify({ time: new Date().toISOString(), source: this.source, event: 'shutdown', ...fields, exchanges: this.exchanges, refusals: this.refusals, errors: this.errors });
    return new Promise((resolve) => process.stdout.write(`${line}\n`, () => resolve()));
  }
}

/** Where the human banner goes: stdout, or stderr when stdout carries the JSON log. */
export const bannerStream = (log: JsonLog | undefined): NodeJS.WriteStream => (log ? process.stderr : process.stdout);

/** Resolves with the signal that asks a server to stop. A second one stops at once (Node's default, as the listeners are gone). */
export function stopSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve(signal);
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

/** How long a stopping server lets answers under way finish. */
export const STOP_GRACE_MS = 5000;
