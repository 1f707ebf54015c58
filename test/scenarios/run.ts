/**
 * Runs the scenarios on the offline stand-in and prints one line each.
 *
 *   npx projen scenarios                 # all of them but the long ones
 *   npx projen scenarios -- --long       # all of them, the long ones too (an hour or more)
 *   npx projen scenarios -- throttling   # those whose name contains "throttling"
 *   npx projen scenarios -- --seed=7     # every random draw from another seed
 *   npx projen scenarios -- sweep        # only the sweep of interleavings (sweep.ts)
 *   npx projen scenarios -- sweep warm   # the sweep over the base runs whose name contains "warm"
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
import { runSweep, sweepTable } from './sweep';

const SWEEP = 'sweep';
const LONG = '--long';

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

async function main(): Promise<number> {
  const args = process.argv.slice(2).filter((a) => a !== '--');
  const seedArg = args.find((a) => a.startsWith('--seed='));
  const seed = seedArg ? Number(seedArg.slice('--seed='.length)) : undefined;
  const long = args.includes(LONG);
  const filter = args.filter((a) => a !== seedArg && a !== LONG).join(' ').toLowerCase();
  if (filter.startsWith(SWEEP)) return sweep(filter.slice(SWEEP.length).trim());
  // A scenario with seeds of its own runs once per seed, unless --seed picks one.
  // Long scenarios run when named, or with --long.
  const chosen = SCENARIOS.filter((s) => s.options.name.toLowerCase().includes(filter) && (!s.long || long || filter !== ''))
    .flatMap((s) => (seed === undefined && s.seeds ? s.seeds : [undefined]).map((own) => ({ scenario: s, seed: seed ?? own })));
  if (chosen.length === 0) {
    process.stderr.write(`no scenario matches "${filter}"\n`);
    return 1;
  }
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const label = (c: (typeof chosen)[number]) => c.scenario.options.name + (c.seed !== undefined && c.scenario.seeds ? `, seed ${c.seed}` : '');
  const nameWidth = 2 + Math.max(...chosen.map((c) => label(c).length));
  out(line(nameWidth, ['  scenario', ...COLUMNS.map(([h]) => h)]));
  const failures: string[] = [];
  const started = performance.now();
  for (const c of chosen) {
    const { scenario } = c;
    const name = label(c);
    let failure: unknown;
    let summary: ScenarioSummary | undefined;
    let figures: string | undefined;
    try {
      const withSeed = (options: typeof scenario.options) => (c.seed === undefined ? options : { ...options, seed: c.seed });
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
    out(summary ? line(nameWidth, [`${mark} ${name}`, ...COLUMNS.map(([, , f]) => f(summary!))]) : `${mark} ${name}`);
    if (figures) out(`    ${figures}`);
    if (failure) failures.push(`✗ ${name}\n${failure instanceof Error ? failure.stack ?? failure.message : String(failure)}`);
  }
  out(`\n${chosen.length - failures.length} of ${chosen.length} scenarios passed in ${((performance.now() - started) / 1000).toFixed(1)} s of real time`);
  for (const f of failures) out(`\n${f}`);
  const swept = filter === '' ? await sweep('') : 0;
  return failures.length === 0 && swept === 0 ? 0 : 1;
}

/** The sweep of interleavings over the base runs whose name contains `filter`: its table, and non-zero on any finding. */
async function sweep(filter: string): Promise<number> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const started = performance.now();
  out('\nsweep of interleavings: every call of every path, with each fault (sweep.ts)');
  const report = await runSweep(filter);
  if (report.runs === 0) {
    process.stderr.write(`no base run of the sweep matches "${filter}"\n`);
    return 1;
  }
  for (const l of sweepTable(report)) out(l);
  out(`swept in ${((performance.now() - started) / 1000).toFixed(1)} s of real time`);
  return report.findings.length === 0 ? 0 : 1;
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exitCode = 1;
});
