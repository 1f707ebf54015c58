/**
 * Runs the scenarios on the offline stand-in and prints one line each.
 *
 *   npx projen scenarios                 # all of them but the long ones
 *   npx projen scenarios -- --long       # all of them, the long ones too (an hour or more)
 *   npx projen scenarios -- throttling   # those whose name contains "throttling"
 *   npx projen scenarios -- --seed=7     # every random draw from another seed
 *   npx projen scenarios -- sweep        # only the sweep of interleavings (sweep.ts)
 *   npx projen scenarios -- sweep warm   # the sweep over the base runs whose name contains "warm"
 *   npx projen scenarios -- --jobs=1     # in this process only (default: one process per core, workers.ts)
 *
 * The sweep runs with every scenario, or alone when the filter starts with "sweep".
 * Scenarios that list seeds of their own run once per seed unless --seed is given.
 *
 * Exits non-zero when a scenario's check fails.
 */
import { runScenario } from '../standin';
import type { ScenarioSummary } from '../standin';
import { assertRanClean } from './checks';
import { SCENARIOS } from './scenarios';
import type { Scenario } from './scenarios';
import { mergeSweepReports, sweepBase, sweepBaseNames, sweepTable } from './sweep';
import type { SweepReport, SweepShard } from './sweep';
import { runTasks, serveTasks, WORKER_FLAG, workerCount } from './workers';

const SWEEP = 'sweep';
const LONG = '--long';
/** Each base run of the sweep is split into this many tasks, a share of its call sites each, to spread over the workers. */
const SWEEP_SHARDS = 4;
/** A shard of a base run of the sweep weighs about as much as a scenario of this many instances. */
const SWEEP_SHARD_WEIGHT = 50;

const COLUMNS: Array<[string, number, (s: ScenarioSummary) => string]> = [
  ['instances', 9, (s) => String(s.instances)],
  ['CONTINUE', 8, (s) => String(s.continued)],
  ['ABANDON', 7, (s) => String(s.abandoned)],
  ['stuck', 5, (s) => String(s.stuck)],
  ['commands', 8, (s) => String(s.commandsSent)],
  ['API calls', 9, (s) => String(s.apiCalls)],
  ['retries', 7, (s) => String(s.retries)],
  ['heartbeat', 9, (s) => String(s.heartbeatTimeouts)],
  ['Lambda retries', 14, (s) => String(s.lambdaRetries)],
  ['DLQ', 3, (s) => String(s.deadLetters)],
  ['virtual', 9, (s) => duration(s.virtualMs)],
  ['real', 6, (s) => `${(s.realMs / 1000).toFixed(1)}s`],
];

function duration(ms: number): string {
  if (ms >= 3_600_000) return `${(ms / 3_600_000).toFixed(1)}h`;
  if (ms >= 60_000) return `${(ms / 60_000).toFixed(1)}m`;
  return `${(ms / 1000).toFixed(1)}s`;
}

function line(nameWidth: number, cells: string[]): string {
  return cells.map((c, n) => (n === 0 ? c.padEnd(nameWidth) : c.padStart(COLUMNS[n - 1][1]))).join('  ');
}

/** What a worker runs: a scenario by name (and seed), or the sweep over one base run. */
type Task = { readonly kind: 'scenario'; readonly name: string; readonly seed?: number; readonly width: number } | { readonly kind: 'sweep'; readonly base: string; readonly shard: SweepShard };
/** What it sends back: a scenario's lines and failure, or a part of the sweep's report. */
type Outcome = { readonly kind: 'scenario'; readonly lines: string[]; readonly failure?: string } | { readonly kind: 'sweep'; readonly report: SweepReport };

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  if (args.includes(WORKER_FLAG)) {
    serveTasks(runTask);
    return 0;
  }
  const seedArg = args.find((a) => a.startsWith('--seed='));
  const seed = seedArg ? Number(seedArg.slice('--seed='.length)) : undefined;
  const long = args.includes(LONG);
  const filter = args.filter((a) => a !== seedArg && a !== LONG && !a.startsWith('--jobs=')).join(' ').toLowerCase();
  const sweepOnly = filter.startsWith(SWEEP);
  // A scenario with seeds of its own runs once per seed, unless --seed picks one.
  // Long scenarios run when named, or with --long.
  const picked = sweepOnly ? [] : SCENARIOS
    .filter((s) => s.options.name.toLowerCase().includes(filter) && (!s.long || long || filter !== ''))
    .flatMap((s) => (seed === undefined && s.seeds ? s.seeds : [seed]).map((own) => ({ name: s.options.name, seed: own })));
  // Every line of the table is as wide as the longest name.
  const width = 2 + Math.max(0, ...picked.map((p) => label(p).length));
  const chosen: Task[] = picked.map((p) => ({ kind: 'scenario', ...p, width }));
  // The sweep runs with every scenario, or alone when the filter starts with "sweep".
  const swept: Task[] = sweepOnly || filter === ''
    ? sweepBaseNames(sweepOnly ? filter.slice(SWEEP.length).trim() : '')
      .flatMap((base) => Array.from({ length: SWEEP_SHARDS }, (_, index) => ({ kind: 'sweep' as const, base, shard: { index, of: SWEEP_SHARDS } })))
    : [];
  if (chosen.length === 0 && swept.length === 0) {
    process.stderr.write(sweepOnly ? `no base run of the sweep matches "${filter.slice(SWEEP.length).trim()}"\n` : `no scenario matches "${filter}"\n`);
    return 1;
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const jobs = workerCount(args, chosen.length + swept.length);
  out(`${chosen.length} scenario runs${swept.length > 0 ? ` and the sweep over ${swept.length / SWEEP_SHARDS} base runs` : ''}, in ${jobs} process${jobs === 1 ? '' : 'es'}`);
  if (chosen.length > 0) out(line(width, ['  scenario', ...COLUMNS.map(([h]) => h)]));
  const failures: string[] = [];
  const sweepReports: SweepReport[] = [];
  const started = performance.now();
  let sweepStarted = started;
  await runTasks<Task, Outcome>([...chosen, ...swept], jobs, __filename, runTask, (outcome, index) => {
    if (outcome.kind === 'sweep') {
      sweepReports.push(outcome.report);
      return;
    }
    for (const l of outcome.lines) out(l);
    if (outcome.failure) failures.push(outcome.failure);
    if (index === chosen.length - 1) {
      out(`\n${chosen.length - failures.length} of ${chosen.length} scenarios passed in ${seconds(started)} of real time`);
      for (const f of failures) out(`\n${f}`);
      sweepStarted = performance.now();
    }
  }, weight);
  if (swept.length === 0) return failures.length === 0 ? 0 : 1;
  const report = mergeSweepReports(sweepReports);
  out('\nsweep of interleavings: every call of every path, with each fault (sweep.ts)');
  for (const l of sweepTable(report)) out(l);
  out(`swept in ${seconds(sweepStarted)} of real time${chosen.length > 0 && jobs > 1 ? ' after the scenarios (alongside them in the other processes)' : ''}`);
  return failures.length === 0 && report.findings.length === 0 ? 0 : 1;
}

/** A guess of a task's length: a scenario's instances (its baseline's too); a shard of the sweep is dozens of short runs. */
function weight(task: Task): number {
  if (task.kind === 'sweep') return SWEEP_SHARD_WEIGHT;
  const { options, baseline } = scenarioNamed(task.name);
  return (options.instances ?? 1) + (baseline?.instances ?? 0);
}

function seconds(since: number): string {
  return `${((performance.now() - since) / 1000).toFixed(1)} s`;
}

function label(run: { readonly name: string; readonly seed?: number }): string {
  return run.name + (run.seed !== undefined && scenarioNamed(run.name).seeds ? `, seed ${run.seed}` : '');
}

function scenarioNamed(name: string): Scenario {
  const scenario = SCENARIOS.find((s) => s.options.name === name);
  if (!scenario) throw new Error(`no scenario is named "${name}"`);
  return scenario;
}

/** Runs one task, here or in a worker; a scenario's failure is part of its outcome. */
async function runTask(task: Task): Promise<Outcome> {
  if (task.kind === 'sweep') return { kind: 'sweep', report: await sweepBase(task.base, undefined, undefined, task.shard) };
  const scenario = scenarioNamed(task.name);
  const name = label(task);
  let failure: unknown;
  let summary: ScenarioSummary | undefined;
  let figures: string | undefined;
  try {
    const withSeed = (options: typeof scenario.options) => (task.seed === undefined ? options : { ...options, seed: task.seed });
    // A scenario measured against a run without its trouble runs that first, with the same seed.
    const baseline = scenario.baseline && await runScenario(withSeed(scenario.baseline));
    const result = await runScenario(withSeed(scenario.options));
    summary = result.summary;
    try {
      figures = scenario.report?.(result, baseline);
    } catch (error) {
      figures = `(no figures: ${error instanceof Error ? error.message : String(error)})`;
    }
    if (baseline) assertRanClean(baseline);
    assertRanClean(result);
    scenario.check(result, baseline);
  } catch (error) {
    failure = error;
  }
  const mark = failure ? '✗' : '✓';
  const lines = [summary ? line(task.width, [`${mark} ${name}`, ...COLUMNS.map(([, , f]) => f(summary!))]) : `${mark} ${name}`];
  if (figures) lines.push(`    ${figures}`);
  return {
    kind: 'scenario',
    lines,
    failure: failure ? `✗ ${name}\n${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}` : undefined,
  };
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
