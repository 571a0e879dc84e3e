import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CONNECTIONS, ROUNDS, ROUND_S, RUNTIMES, ensureWrk, median, mintCertificates, startReady, tokenFor, wrk, type Ready, type Run, type Target } from './run.js';

/**
 * The large profile (10k accounts, 100k bundles, 200 organisations) beside
 * the default one, in the same run: start-up (spawn to the "Ready" line, and
 * the "ready in N ms" the banner prints), resident memory (VmRSS after start
 * and after load), and GET account / POST transfer throughput with wrk in
 * interleaved rounds (medians). Runs alone: `npx tsx bench/large.ts`.
 */
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const PROFILES = ['default', 'large'] as const;
type Profile = (typeof PROFILES)[number];

const TARGETS = { startSeconds: 5, rssMB: 300, throughputShare: 0.8 };

export interface Started extends Ready {
  profile: Profile;
  rssAfterStart: number;
}

/** VmRSS of a process, MB. */
export function rssMB(pid: number): number {
  const match = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Number(match[1]) / 1024 : Number.NaN;
}

/** `grex-harness mock --port 0 --profile P --config F [extra]` (through tsx unless told), timed from the spawn to its "Ready" line. */
export async function startMock(profile: Profile, config: string, extra: string[] = [], runtime: readonly string[] = RUNTIMES.tsx): Promise<Started> {
  const ready = await startReady(runtime, ['--port', '0', '--profile', profile, '--config', config, ...extra]);
  return { ...ready, profile, rssAfterStart: rssMB(ready.child.pid as number) };
}

async function main(): Promise<void> {
  const scratch = mkdtempSync(join(tmpdir(), 'grex-bench-large-'));
  const mocks: Started[] = [];
  try {
    const binary = ensureWrk();
    // As users run it (firewall and fair use on), the limits raised so that the load is not refused (as bench/run.ts).
    const raised = join(scratch, 'raised.json');
    writeFileSync(raised, JSON.stringify({ fairUse: { limits: [{ requests: 1_000_000_000, windowSeconds: 60 }] } }));
    // One after the other, so that neither start-up competes with the other.
    for (const profile of PROFILES) mocks.push(await startMock(profile, raised));

    const from = '643003000000000005';
    const to = '643006000000000002';
    const account = '643003000000000002';
    const targets: Target[] = [];
    for (const mock of mocks) {
      const at = (path: string): string => `${mock.url}${path}`;
      const token = await tokenFor(at, 'eolien-trader');
      const minted = await mintCertificates(at, from);
      const serials = join(scratch, `${mock.profile}-serials.txt`);
      writeFileSync(serials, `${minted.start} ${minted.end}\n`);
      let used = 0;
      targets.push(
        {
          name: `GET account   ${mock.profile}`,
          url: at(`/managementapi/AH/managementapi/Accounts/${account}`),
          args: () => ['-H', `Authorization: Bearer ${token}`, '-H', 'Accept: application/json', '-H', 'User-Agent: grex-bench'],
        },
        {
          name: `POST transfer ${mock.profile}`,
          url: mock.url,
          args: () => ['-s', join(ROOT, 'bench', 'transfer.lua'), '--', '/transactionapi/AH/transactionapi/Transfers', token, from, to, serials, String(used)],
          ran: (requests) => (used += requests + 2 * CONNECTIONS),
        },
      );
    }
    process.stdout.write(`grex-harness bench, large profile: wrk -t1 -c${CONNECTIONS}, ${ROUNDS} interleaved rounds of ${ROUND_S} s after a 1 s warm-up each\n\n`);
    const runs = new Map<string, Run[]>(targets.map((target) => [target.name, []]));
    for (const target of targets) wrk(binary, target, 1);
    for (let round = 0; round < ROUNDS; round++) for (const target of targets) runs.get(target.name)?.push(wrk(binary, target, ROUND_S));
    const rps = (name: string): number => median((runs.get(name) ?? []).map((run) => run.rps));
    const failed = (name: string): number => (runs.get(name) ?? []).reduce((sum, run) => sum + run.failed, 0);
    const rssAfterLoad = mocks.map((mock) => rssMB(mock.child.pid as number));

    const [small, large] = mocks;
    const rows: [string, string, string, string][] = [
      ['start-up, spawn to Ready', `${(small.spawnToReady / 1000).toFixed(2)} s`, `${(large.spawnToReady / 1000).toFixed(2)} s`, verdict(large.spawnToReady / 1000 <= TARGETS.startSeconds, `≤ ${TARGETS.startSeconds} s`)],
      ['start-up, "ready in" (in process)', `${(small.readyIn / 1000).toFixed(2)} s`, `${(large.readyIn / 1000).toFixed(2)} s`, ''],
      ['resident memory after start', `${small.rssAfterStart.toFixed(0)} MB`, `${large.rssAfterStart.toFixed(0)} MB`, verdict(large.rssAfterStart <= TARGETS.rssMB, `≤ ${TARGETS.rssMB} MB`)],
      // Every accepted transfer stays in the registry (a transaction, a bundle, its duplicate-write key): under the same load both profiles grow alike.
      ['resident memory after load', `${rssAfterLoad[0].toFixed(0)} MB`, `${rssAfterLoad[1].toFixed(0)} MB`, `growth ${(rssAfterLoad[1] - large.rssAfterStart).toFixed(0)} MB (default: ${(rssAfterLoad[0] - small.rssAfterStart).toFixed(0)} MB)`],
    ];
    for (const kind of ['GET account  ', 'POST transfer']) {
      const share = rps(`${kind} large`) / rps(`${kind} default`);
      const note = (profile: Profile): string => `${Math.round(rps(`${kind} ${profile}`))} req/s${failed(`${kind} ${profile}`) ? ` (${failed(`${kind} ${profile}`)} non-2xx)` : ''}`;
      rows.push([`${kind.trim()} throughput`, note('default'), `${note('large')} (${(100 * share).toFixed(0)}%)`, verdict(share >= TARGETS.throughputShare, `≥ ${100 * TARGETS.throughputShare}% of default`)]);
    }
    const header: [string, string, string, string] = ['', 'default', 'large', 'target (large)'];
    const widths = header.map((_, column) => Math.max(...[header, ...rows].map((row) => row[column].length)));
    for (const row of [header, ...rows]) process.stdout.write(`${row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]) : cell.padStart(widths[column]))).join('  ')}\n`);
    process.stdout.write(`\n(rounds, req/s: ${targets.map((target) => `${target.name.replace(/\s+/g, ' ')} ${(runs.get(target.name) ?? []).map((run) => Math.round(run.rps)).join('/')}`).join('; ')})\n`);
  } finally {
    for (const mock of mocks) mock.child.kill('SIGTERM');
    rmSync(scratch, { recursive: true, force: true });
  }
}

const verdict = (met: boolean, target: string): string => `${target}: ${met ? 'met' : 'MISSED'}`;

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((error: unknown) => {
    process.stderr.write(`bench/large: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
