import { spawnSync } from 'node:child_process';
import { createReadStream, createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gradeJournal } from '../grader/grade.js';

/**
 * Grading speed (`npx tsx bench/grade.ts`): a synthetic journal of
 * 1,000,000 exchanges (BENCH_EXCHANGES), shaped like the mock's (100 account
 * holders, each within fair use: paged reads, transfers, an hourly B2C
 * refresh, a 429 now and then, lines of real size), graded in a child
 * process; beside it a baseline child that only reads the file in chunks
 * and JSON.parses every line whole (the grader skips response bodies, so it
 * can beat its own floor). Seconds and peak RSS (the child's maxRSS), medians of BENCH_RUNS (3).
 * Targets: under 15 s and 500 MB.
 */
const EXCHANGES = Number(process.env.BENCH_EXCHANGES ?? 1_000_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HOLDERS = 100;
/** One request per holder every 9 s: 400 an hour, inside the 500 of fair use. */
const STEP_MS = 9000 / HOLDERS;
const T0 = Date.parse('2026-11-02T08:00:00.000Z');

const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
const SIGNATURE = 'x'.repeat(342);
function token(holder: number, issuedAt: number): string {
  const claims = { iss: 'https://gcrfdemo.b2clogin.com/5b1c7f0e-3d0a-4f3e-9a52-6d1f0c3e2a71/v2.0/', exp: Math.floor(issuedAt / 1000) + 3600, nbf: Math.floor(issuedAt / 1000), aud: '4c2d6a8e-9b1f-4e3a-8d7c-2f5e1a0b9c3d', oid: `user-${holder}`, sub: `user-${holder}`, name: 'Bench User', emails: [`bench${holder}@example.fr`], tfp: 'B2C_1_SignIn', scp: 'user_impersonation', azp: '9e818394-185c-47e7-8b93-714714bfcf8f', ver: '1.0', iat: Math.floor(issuedAt / 1000) };
  return `${b64({ alg: 'RS256', kid: 'grex-mock-1', typ: 'JWT' })}.${b64(claims)}.${SIGNATURE}`;
}

const ACCOUNT = { accountNumber: '643003000000000001', name: 'Compte par défaut EECS-GO', organizationId: '15426a3a-3ae4-403f-ad8f-3940f214a9be', standardAssociation: 'EECS-GO', parentAccountNumber: null, isDefault: true, isLocked: false, isIssuingAccount: false, status: 'Active', createdAt: '2019-06-03T11:51:00.000Z' };
const PAGE_BODY = JSON.stringify(JSON.stringify(Array.from({ length: 5 }, () => ACCOUNT)));
const TRANSFER_ANSWER = JSON.stringify(JSON.stringify({ statusCode: 201, responseCode: 'TRANSACTION_201', responseMessage: 'The transaction was created successfully. Transaction id: 151b0923-3dfb-4de6-85f2-b2451ff96a92.' }));
const LIMITED_ANSWER = JSON.stringify(JSON.stringify({ statusCode: 429, responseCode: 'FAIRUSE_001', responseMessage: 'Too many requests: 100 per minute. Retry after 2 seconds.' }));
const TOKEN_ANSWER = JSON.stringify(JSON.stringify({ access_token: token(0, T0), token_type: 'Bearer', expires_in: 3600, refresh_token: 'r'.repeat(700) }));

/** One line of the journal, as mock/journal.ts writes it. */
function line(id: number, at: number, holder: number, state: { token: string; issued: number; certificate: number; skip: number }): string {
  const startedAt = new Date(at).toISOString();
  const org = `org-${String(holder).padStart(4, '0')}`;
  const client = `10.0.${holder >> 8}.${holder & 255}`;
  const headers = (extra: string) => `{"host":"eexfrancedemoapi.grexel.com","accept":"application/json","user-agent":"bench-client/1.0","authorization":"Bearer ${state.token}"${extra}}`;
  if (at - state.issued > 55 * 60_000 || id <= HOLDERS) {
    state.issued = at;
    state.token = token(holder, at);
    const form = `grant_type=refresh_token&client_id=9e818394-185c-47e7-8b93-714714bfcf8f&scope=openid%20offline_access&refresh_token=${'r'.repeat(700)}`;
    return `{"id":${id},"startedAt":"${startedAt}","durationMs":2.1,"client":"${client}","request":{"method":"POST","url":"/gcrfdemo.onmicrosoft.com/B2C_1_SignIn/oauth2/v2.0/token","headers":{"host":"gcrfdemo.b2clogin.com","accept":"application/json","user-agent":"bench-client/1.0","content-type":"application/x-www-form-urlencoded","content-length":"${form.length}"},"body":"${form}"},"response":{"status":200,"headers":{"content-type":"application/json; charset=utf-8"},"body":${TOKEN_ANSWER}},"operationId":"b2cRedeemToken","decisions":[{"stage":"route","outcome":"pass","detail":"b2cRedeemToken"},{"stage":"domain","outcome":"pass"}]}`;
  }
  const decisions = (operationId: string) => `[{"stage":"firewall","outcome":"pass"},{"stage":"fairuse","outcome":"pass","detail":"${org}"},{"stage":"route","outcome":"pass","detail":"${operationId}"},{"stage":"auth","outcome":"pass","detail":"bench (organisation)"},{"stage":"validate","outcome":"pass"},{"stage":"domain","outcome":"pass"}]`;
  if (id % 50_000 === 7) {
    return `{"id":${id},"startedAt":"${startedAt}","durationMs":0.2,"client":"${client}","request":{"method":"GET","url":"/managementapi/AH/managementapi/Accounts?$top=5&$skip=0","headers":${headers('')}},"response":{"status":429,"headers":{"content-type":"application/json","retry-after":"2"},"body":${LIMITED_ANSWER}},"decisions":[{"stage":"firewall","outcome":"pass"},{"stage":"fairuse","outcome":"reject","code":"FAIRUSE_001","detail":"${org}"}]}`;
  }
  if (id % 10 === 3) {
    const certificate = String(10000000000000000000n + BigInt(state.certificate++));
    const body = JSON.stringify(JSON.stringify({ fromAccountNumber: '643003000000000005', toAccountNumber: '643003000000000002', bundles: [{ startCertificateId: certificate, endCertificateId: certificate }] }));
    return `{"id":${id},"startedAt":"${startedAt}","durationMs":1.4,"client":"${client}","request":{"method":"POST","url":"/transactionapi/AH/transactionapi/Transfers","headers":${headers(`,"content-type":"application/json","content-length":"${body.length - 2}"`)},"body":${body}},"response":{"status":201,"headers":{"content-type":"application/json; charset=utf-8"},"body":${TRANSFER_ANSWER}},"operationId":"createTransfer","user":"bench-${holder}","organization":"${org}","decisions":${decisions('createTransfer')}}`;
  }
  state.skip = (state.skip + 5) % 100_000;
  return `{"id":${id},"startedAt":"${startedAt}","durationMs":0.9,"client":"${client}","request":{"method":"GET","url":"/managementapi/AH/managementapi/Accounts?$top=5&$skip=${state.skip}","headers":${headers('')}},"response":{"status":200,"headers":{"content-type":"application/json; charset=utf-8"},"body":${PAGE_BODY}},"operationId":"listAccounts","user":"bench-${holder}","organization":"${org}","decisions":${decisions('listAccounts')}}`;
}

async function synthesise(file: string): Promise<void> {
  const out = createWriteStream(file);
  const states = Array.from({ length: HOLDERS }, () => ({ token: '', issued: 0, certificate: 0, skip: 0 }));
  let batch: string[] = [];
  for (let id = 1; id <= EXCHANGES; id++) {
    const holder = (id - 1) % HOLDERS;
    batch.push(line(id, T0 + Math.round(id * STEP_MS), holder, states[holder]));
    if (batch.length === 5000 || id === EXCHANGES) {
      if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
      batch = [];
    }
  }
  await new Promise<void>((resolve) => out.end(() => resolve()));
}

interface Measure {
  seconds: number;
  rssMB: number;
  detail: string;
}

/** In the child: one pass, timed, with its peak RSS. */
async function child(mode: string, file: string): Promise<void> {
  const started = performance.now();
  let detail: string;
  if (mode === 'baseline') {
    let count = 0;
    let rest: Buffer | null = null;
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 }) as AsyncIterable<Buffer>) {
      const data: Buffer = rest ? Buffer.concat([rest, chunk]) : chunk;
      let start = 0;
      for (let end = data.indexOf(10); end >= 0; end = data.indexOf(10, start)) {
        if (JSON.parse(data.toString('utf8', start, end))) count++;
        start = end + 1;
      }
      rest = start < data.length ? data.subarray(start) : null;
    }
    if (rest && JSON.parse(rest.toString('utf8'))) count++;
    detail = `${count} exchanges parsed`;
  } else {
    const report = await gradeJournal(file);
    detail = `${report.graded} graded; failed: ${report.rules.filter((rule) => !rule.passed).map((rule) => `${rule.rule} (${rule.violations})`).join(', ') || 'none'}`;
  }
  const measure: Measure = { seconds: (performance.now() - started) / 1000, rssMB: process.resourceUsage().maxRSS / 1024, detail };
  process.stdout.write(JSON.stringify(measure));
}

function measure(mode: string, file: string): Measure {
  const result = spawnSync(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), '--child', mode, file], { encoding: 'utf8', timeout: 600_000 });
  if (result.status !== 0) throw new Error(`${mode} child failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Measure;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(process.argv[3], process.argv[4]);
  const dir = mkdtempSync(join(tmpdir(), 'grex-bench-grade-'));
  try {
    // BENCH_JOURNAL keeps the synthetic journal there (written once), e.g. for a profile of the grader.
    const kept = process.env.BENCH_JOURNAL;
    const file = kept ?? join(dir, 'journal.ndjson');
    const made = performance.now();
    if (!kept || !existsSync(kept)) await synthesise(file);
    const bytes = statSync(file).size;
    console.log(`journal: ${EXCHANGES.toLocaleString('en')} exchanges, ${(bytes / 1e6).toFixed(0)} MB (${Math.round(bytes / EXCHANGES)} bytes a line), written in ${((performance.now() - made) / 1000).toFixed(1)} s`);
    const runs: Record<string, Measure[]> = { baseline: [], grade: [] };
    for (let run = 0; run < RUNS; run++) for (const mode of ['baseline', 'grade']) runs[mode].push(measure(mode, file));
    console.log(`\n| ${RUNS} runs, medians | seconds | peak RSS (MB) | exchanges/s |\n|---|---:|---:|---:|`);
    for (const [mode, measures] of Object.entries(runs)) {
      const seconds = median(measures.map((m) => m.seconds));
      console.log(`| ${mode === 'baseline' ? 'read + JSON.parse only' : 'full grade (14 rules)'} | ${seconds.toFixed(1)} | ${median(measures.map((m) => m.rssMB)).toFixed(0)} | ${Math.round(EXCHANGES / seconds).toLocaleString('en')} |`);
    }
    const grade = runs.grade;
    console.log(`\n${grade[0].detail}`);
    const seconds = median(grade.map((m) => m.seconds));
    const rss = median(grade.map((m) => m.rssMB));
    console.log(`targets: < 15 s ${seconds < 15 ? 'met' : 'MISSED'}, < 500 MB ${rss < 500 ? 'met' : 'MISSED'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
