import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { PulledError } from '../contracts/lib/pulled.js';
import { loadServedContracts } from '../contracts/lib/served.js';
import { clientEnvironment, runClient, startCertifyMock, type ClientRun } from './certify.js';
import { gradeJournal, type GradeReport } from './grade.js';
import { JournalError } from './journal-reader.js';
import { parseFormats, removeFromRun, writeReports, type Format } from './report/write.js';
import { summaryText } from './report/summary.js';

export const GRADE_HELP = `  grade     Grade a saved journal (NDJSON of the mock's --journal-file or
            GET /__admin/journal, the proxy's, or HAR) against the client rules:
            headers, paging, rates, back-off, writes, sign-in, contracts.
              grex-harness grade <journal> [--out DIR] [--format F]
              --out DIR    report folder (default reports/grade/<timestamp>)
              --format F   all (default) or a list of text,json,junit,allure,html
              --contracts DIR  grade against G-REX's own documents (as the
                           mock served them with --contracts DIR)
            Exit: 0 every error rule passed, 1 a rule failed, 2 usage error or
            unreadable journal (a malformed line is named by its number), 4 no
            rule failed but no request to the six APIs is in the journal
            (nothing to grade: not a pass).
`;

export const CERTIFY_HELP = `  certify   Start a fresh mock (fair use and firewall on, as G-REX), run a
            client's command with the environment a G-REX client expects (the
            manual's BaseURI... variables, B2C settings, RefreshToken, Username,
            Password), wait for it, grade its traffic, write the reports.
              grex-harness certify [options] -- <command> [args...]
              --timeout S  seconds the client may run (default 120)
              --user U     fixture user whose refresh token it gets
                           (default eolien-trader)
              --tenant T   gcrfdemo (default) or gcrfr
              --out DIR    report folder (default reports/certify/<timestamp>)
              --format F   as for grade
              --contracts DIR  the mock serves G-REX's own documents (as
                           mock --contracts) and the traffic is graded
                           against them
            Each run replaces the reports, journal and log a previous run left
            in --out: it grades its own traffic only.
            Exit: 0 passed, 1 a rule failed, 2 usage error, 3 the client timed
            out, crashed or exited non-zero (its traffic is graded all the same),
            4 no rule failed but the client sent no request to the six APIs
            (nothing to certify: not a pass).
`;

const stamp = (): string => new Date().toISOString().replace(/[:.]/g, '-');

/** Exit code of a journal without API traffic: neither a pass nor a rule failure (GradeReport.reason). */
export const EXIT_NO_API_TRAFFIC = 4;

/** A failed rule says the most (a client that tried ROPC and never reached the APIs fails pkce-s256): 1 before 4. */
const exitCode = (report: GradeReport): number => {
  if (report.rules.some((rule) => !rule.passed && rule.severity === 'error')) return 1;
  return report.reason ? EXIT_NO_API_TRAFFIC : 0;
};

function fail(command: string, message: string): number {
  process.stderr.write(`grex-harness ${command}: ${message}\n`);
  return 2;
}

function parse(command: string, args: string[], options: NonNullable<ParseArgsConfig['options']>): { values: Record<string, string | boolean | undefined>; positionals: string[] } | string {
  try {
    const { values, positionals } = parseArgs({ args, options, allowPositionals: true });
    return { values: values as Record<string, string | boolean | undefined>, positionals };
  } catch (error) {
    return `${(error as Error).message.split('\n')[0]} (grex-harness help ${command})`;
  }
}

export async function gradeCommand(args: string[]): Promise<number> {
  const parsed = parse('grade', args, { out: { type: 'string' }, format: { type: 'string' }, contracts: { type: 'string' } });
  if (typeof parsed === 'string') return fail('grade', parsed);
  const formats = parseFormats(parsed.values.format as string | undefined);
  if (typeof formats === 'string') return fail('grade', formats);
  if (parsed.positionals.length !== 1) return fail('grade', `give one journal file, e.g. grex-harness grade reports/certify/<run>/journal.ndjson${parsed.positionals.length ? ` (got ${parsed.positionals.length})` : ''}`);
  let report: GradeReport;
  try {
    const contracts = parsed.values.contracts === undefined ? undefined : await loadServedContracts(parsed.values.contracts as string);
    report = await gradeJournal(parsed.positionals[0], contracts);
  } catch (error) {
    if (error instanceof JournalError) return fail('grade', error.message);
    if (error instanceof PulledError) return fail('grade', `--contracts ${parsed.values.contracts}: ${error.message}`);
    throw error;
  }
  const out = resolve((parsed.values.out as string | undefined) ?? join('reports', 'grade', stamp()));
  writeReports(report, out, formats);
  process.stdout.write(`${summaryText(report)}Reports: ${out}\n`);
  return exitCode(report);
}

function describeRun(run: ClientRun): string {
  switch (run.outcome.kind) {
    case 'exited':
      return `exited with code ${run.outcome.code}`;
    case 'timeout':
      return `did not finish in ${run.outcome.seconds} s and was killed`;
    case 'signal':
      return `was killed by ${run.outcome.signal}`;
    case 'not-started':
      return `could not be started: ${run.outcome.reason}`;
  }
}

export async function certifyCommand(args: string[]): Promise<number> {
  const split = args.indexOf('--');
  const own = split < 0 ? args : args.slice(0, split);
  const command = split < 0 ? [] : args.slice(split + 1);
  const parsed = parse('certify', own, {
    timeout: { type: 'string', default: '120' },
    user: { type: 'string', default: 'eolien-trader' },
    tenant: { type: 'string', default: 'gcrfdemo' },
    out: { type: 'string' },
    format: { type: 'string' },
    contracts: { type: 'string' },
  });
  if (typeof parsed === 'string') return fail('certify', parsed);
  if (parsed.positionals.length) return fail('certify', `put the client's command after "--": grex-harness certify [options] -- ${parsed.positionals.join(' ')}`);
  if (!command.length || !command[0]) return fail('certify', 'no client command: grex-harness certify [options] -- <command> [args...]');
  const timeout = Number(parsed.values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 86_400) return fail('certify', `--timeout must be a number of seconds from 1 to 86400, got "${parsed.values.timeout}"`);
  const formats: Format[] | string = parseFormats(parsed.values.format as string | undefined);
  if (typeof formats === 'string') return fail('certify', formats);
  let contracts;
  try {
    contracts = parsed.values.contracts === undefined ? undefined : await loadServedContracts(parsed.values.contracts as string);
  } catch (error) {
    if (error instanceof PulledError) return fail('certify', `--contracts ${parsed.values.contracts}: ${error.message}`);
    throw error;
  }
  const out = resolve((parsed.values.out as string | undefined) ?? join('reports', 'certify', stamp()));
  mkdirSync(out, { recursive: true });
  const journal = join(out, 'journal.ndjson');
  // The mock appends to its journal file: a reused --out would grade the last run's traffic with this one's.
  removeFromRun(out, ['journal.ndjson', 'client.log']);

  const mock = await startCertifyMock(journal, contracts);
  let run: ClientRun;
  try {
    let env: Record<string, string>;
    try {
      env = await clientEnvironment(mock, parsed.values.user as string, parsed.values.tenant as string);
    } catch (error) {
      return fail('certify', (error as Error).message);
    }
    process.stderr.write(`grex-harness certify: mock at ${mock.url}; running ${command.join(' ')} as ${parsed.values.user} (time limit ${timeout} s)\n`);
    run = await runClient(command, env, out, timeout);
  } finally {
    await mock.close();
  }
  const report = await gradeJournal(journal, contracts);
  const client = { command, outcome: run.outcome, log: run.log };
  writeReports(report, out, formats, { client });
  const crashed = run.outcome.kind !== 'exited' || run.outcome.code !== 0;
  process.stdout.write(`${summaryText(report)}Client: ${command.join(' ')} ${describeRun(run)} (output: ${run.log}).\nReports: ${out}\n`);
  return crashed ? 3 : exitCode(report);
}
