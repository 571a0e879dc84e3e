import { parseArgs } from 'node:util';
import { MUTATIONS, type Mutation } from '../suites/mutations.js';
import { MutationRunner } from '../suites/support/mutation-runner.js';

/**
 * `npm run mutation`: do the conformance suites catch a wrong server? One
 * mock; first the suite files unfaulted (they must pass, or a failure would
 * prove nothing), then each mutation of suites/mutations.ts on its own: its
 * faults on, its suite files run (stopping at the first failure), caught
 * when a test fails. Prints a line per mutation and the score by stage and
 * area. Exit 0 when every mutation was caught, 1 when one survived, 2 when
 * the unfaulted run failed or a run broke.
 * Usage: mutation [--only <part of a name>]... [--list]
 */
const { values } = parseArgs({ options: { only: { type: 'string', multiple: true }, list: { type: 'boolean', default: false } } });
const chosen = values.only?.length ? MUTATIONS.filter((mutation) => values.only!.some((part) => mutation.name.includes(part))) : MUTATIONS;
if (chosen.length === 0) {
  console.error(`no mutation's name contains ${values.only?.join(' or ')}; \`npm run mutation -- --list\` lists them`);
  process.exit(2);
}
if (values.list) {
  for (const mutation of chosen) console.log(`${mutation.name.padEnd(52)} ${mutation.stage.padEnd(9)} ${mutation.area.padEnd(21)} ${mutation.wrong}`);
  process.exit(0);
}

const started = performance.now();
const runner = await MutationRunner.start();
const files = [...new Set(chosen.flatMap((mutation) => mutation.files))];
console.log(`mutation run: ${chosen.length} wrong servers against ${files.length} suite files (mock project, one mock at ${runner.url})`);
let exitCode = 0;
try {
  const baseline = await runner.run(files);
  if (baseline.status !== 0) {
    console.error(`${baseline.output}\nunfaulted, the suites do not pass (exit ${baseline.status}; ${baseline.failed.length} failed): a fault they catch would prove nothing`);
    process.exit(2);
  }
  console.log(`unfaulted: ${baseline.passed} tests pass (${baseline.seconds.toFixed(1)} s)`);

  const outcomes: { mutation: Mutation; caught: boolean }[] = [];
  for (const mutation of chosen) {
    const run = await runner.run(mutation.files, mutation.faults, { firstFailure: true });
    const caught = run.status === 1 && run.failed.length > 0;
    if (!caught && run.status !== 0) {
      console.error(`${run.output}\n${mutation.name}: the run broke (exit ${run.status})`);
      exitCode = 2;
    }
    outcomes.push({ mutation, caught });
    const by = run.failed[0];
    const verdict = caught ? `caught by ${by.file}: "${by.title}": ${by.error}` : `SURVIVED: ${mutation.files.join(', ')} passed (${run.passed} tests)`;
    console.log(`${caught ? '  caught  ' : '  SURVIVED'} ${mutation.name} (${mutation.stage}, ${mutation.area}, ${run.seconds.toFixed(1)} s): a server that ${mutation.wrong}\n           ${verdict}`);
  }

  const score = (group: (mutation: Mutation) => string) => {
    const tally = new Map<string, [number, number]>();
    for (const { mutation, caught } of outcomes) {
      const [hit, all] = tally.get(group(mutation)) ?? [0, 0];
      tally.set(group(mutation), [hit + (caught ? 1 : 0), all + 1]);
    }
    return [...tally].map(([name, [hit, all]]) => `${name} ${hit}/${all}`).join(', ');
  };
  const caught = outcomes.filter((outcome) => outcome.caught).length;
  console.log(`by stage: ${score((mutation) => mutation.stage)}`);
  console.log(`by area: ${score((mutation) => mutation.area)}`);
  console.log(`mutation score: ${caught}/${outcomes.length} caught (${Math.round((100 * caught) / outcomes.length)}%) in ${((performance.now() - started) / 1000).toFixed(0)} s`);
  if (caught < outcomes.length && exitCode === 0) exitCode = 1;
} finally {
  await runner.stop();
}
process.exit(exitCode);
