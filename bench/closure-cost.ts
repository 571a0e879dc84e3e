/**
 * What one function made per request costs, run as the mock runs: through tsx
 * (esbuild's keepNames names every function expression with
 * Object.defineProperty when it is made) or compiled by tsc (plain
 * JavaScript). bench/run.ts runs this file both ways in the same run and
 * prints the difference beside the mock's CPU per GET.
 *
 * The two shapes of the pipeline's token memo (mock/app.ts): a closure that
 * reads the token once when first asked, and the plain statement the hot-path
 * rule chose instead. Prints {"closureNs": ..., "plainNs": ...}, per request,
 * medians of rounds.
 */
const REQUESTS = 2_000_000;
const ROUNDS = 7;

interface Identity {
  user: string;
}

const users = ['eolien-trader', 'volta-trader', 'ib-root'].map((user): Identity => ({ user }));
let sink = 0;

function lookup(header: string): Identity {
  return users[header.length % users.length];
}

/** As written with a closure: the token is read when first needed, by either stage. */
function withClosure(header: string, fairUse: boolean): number {
  let identity: Identity | undefined;
  const identify = (): Identity => (identity ??= lookup(header));
  const first = fairUse ? identify().user.length : 0;
  return first + identify().user.length;
}

/** As written today: the same memo in plain statements. */
function withStatements(header: string, fairUse: boolean): number {
  let identity: Identity | undefined;
  if (fairUse) identity = lookup(header);
  const first = identity ? identity.user.length : 0;
  identity ??= lookup(header);
  return first + identity.user.length;
}

function perRequestNs(shape: (header: string, fairUse: boolean) => number): number {
  const headers = ['Bearer a', 'Bearer bb', 'Bearer ccc'];
  const started = process.hrtime.bigint();
  for (let i = 0; i < REQUESTS; i++) sink += shape(headers[i % 3], (i & 1) === 0);
  return Number(process.hrtime.bigint() - started) / REQUESTS;
}

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];
const closure: number[] = [];
const plain: number[] = [];
// A warm-up round each, then interleaved rounds.
perRequestNs(withClosure);
perRequestNs(withStatements);
for (let round = 0; round < ROUNDS; round++) {
  closure.push(perRequestNs(withClosure));
  plain.push(perRequestNs(withStatements));
}
process.stdout.write(`${JSON.stringify({ closureNs: median(closure), plainNs: median(plain), sink: sink > 0 })}\n`);
