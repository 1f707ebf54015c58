/**
 * The sweep of interleavings: every entry path of the handler, faulted after
 * each call it makes. For each base run below, a run without faults gives the
 * call points: every invocation (lifecycle event, status event, registration
 * check, reconciliation pass) and every request it made, in order. Then each
 * point is run again with each fault (`CallPointFault`): the invocation
 * crashing as the call's answer arrives (and Lambda's retry), the answer lost
 * after the call took effect (and the SDK's retry), a copy of the same event,
 * a reconciliation pass, and on warm pools the instance's next action, each
 * running at that moment. The stand-in is deterministic: a run is the same as
 * the run without faults up to its point, so the sweep is exhaustive over
 * these points. After each run the rules of the handler are checked.
 */
import type { CallPoint, CallPointFault, HandlerFactory, ScenarioOptions } from '../standin';
import { runScenario } from '../standin';
import { commandsForEndedActions, completionsByAnotherActionsCommand, instancesWithTwoCommands, ScenarioResult } from './checks';

/** A base run: one path of the handler (or a few), without faults. */
interface Base {
  readonly name: string;
  readonly options: Omit<ScenarioOptions, 'name'>;
  readonly faults: readonly CallPointFault[];
}

const FAULTS: readonly CallPointFault[] = ['crash', 'answer-lost', 'copy', 'pass'];
const WARM_POOL_FAULTS: readonly CallPointFault[] = [...FAULTS, 'next-action'];

const LAUNCH = { transition: 'launch', timeoutSeconds: 300 } as const;

const BASES: readonly Base[] = [
  {
    name: 'launch',
    options: {
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 10_000 },
    },
    faults: FAULTS,
  },
  {
    name: 'launch, agent registers late',
    options: {
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: [12_000, 12_000] },
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 30_000 },
    },
    faults: FAULTS,
  },
  {
    name: 'launch, lifecycle event lost',
    options: {
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 10_000 },
      events: { faults: [{ kind: 'lifecycle', lose: true }] },
    },
    faults: FAULTS,
  },
  {
    // The pass claims the action and sends its command (sighted at 10 s, sent at 370 s); the event comes while it runs.
    name: 'launch, lifecycle event late',
    options: {
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [60_000, 60_000] },
      reconciliation: { phaseMs: 10_000 },
      events: { faults: [{ kind: 'lifecycle', delayMs: [380_000, 380_000] }] },
    },
    faults: FAULTS,
  },
  {
    name: 'launch, an operator completes the action while its command runs',
    options: {
      hook: LAUNCH,
      instances: 1,
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [40_000, 40_000] },
      reconciliation: { phaseMs: 30_000 },
      during: [{ atMs: 20_000, run: (world) => world.complete(0, 'CONTINUE') }],
    },
    faults: FAULTS,
  },
  {
    name: 'terminate',
    options: {
      hook: { transition: 'terminate', timeoutSeconds: 300 },
      instances: 1,
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 10_000 },
    },
    faults: FAULTS,
  },
  {
    name: 'warm pool, events delivered',
    options: {
      hook: LAUNCH,
      instances: 1,
      warmPool: { leaveAfterMs: [30_000, 30_000] },
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 60_000 },
    },
    faults: WARM_POOL_FAULTS,
  },
  {
    name: 'warm pool, lifecycle events lost',
    options: {
      hook: LAUNCH,
      instances: 1,
      warmPool: { leaveAfterMs: [30_000, 30_000] },
      agent: { registrationDelayMs: 0 },
      command: { durationMs: [5_000, 5_000] },
      reconciliation: { phaseMs: 10_000 },
      events: { faults: [{ kind: 'lifecycle', lose: true }] },
    },
    faults: WARM_POOL_FAULTS,
  },
];

/** One call of one invocation of the run without faults. */
interface Site {
  readonly kind: CallPoint['kind'];
  readonly nth: number;
  readonly call: number;
  readonly operation: string;
}

/** Every call every invocation made in a run without faults, in each invocation's order. */
function sitesOf(r: ScenarioResult): Site[] {
  const sites: Site[] = [];
  const calls = [...r.calls, ...r.storeCalls];
  const ordinals = new Map<string, number>();
  for (const inv of r.invocations) {
    if (inv.kind === 'other' || inv.attempt !== 1) continue;
    const nth = ordinals.get(inv.kind) ?? 0;
    ordinals.set(inv.kind, nth + 1);
    const own = calls.filter((c) => c.invocation === inv.id && c.call !== undefined).sort((a, b) => a.call! - b.call!);
    for (const c of own) sites.push({ kind: inv.kind, nth, call: c.call!, operation: c.operation });
  }
  return sites;
}

/** How every action ended: its wait state, result and who completed it. */
function endings(r: ScenarioResult): string[][] {
  return r.instances.map((i) => i.completions.map((c) => `${c.state} ${c.result} by ${c.by}`));
}

/** The rules each run must keep; each returns what broke it. */
const INVARIANTS: ReadonlyArray<[string, (r: ScenarioResult, clean: ScenarioResult) => string[]]> = [
  ['at most one command per action', (r) => instancesWithTwoCommands(r).map((i) => `instance ${i}: two commands for one action`)],
  ['no command accepted after its action ended', (r) => commandsForEndedActions(r)],
  ['every completion by its own action\'s command', (r) => completionsByAnotherActionsCommand(r)],
  ['every action ends as without the fault (by the handler, not the heartbeat)', (r, clean) => {
    const got = JSON.stringify(endings(r));
    const want = JSON.stringify(endings(clean));
    return got === want && r.summary.stuck === 0 ? [] : [`ended ${got}, without the fault ${want}`];
  }],
  ['nothing lost: no dead letter, no stand-in error, the run ran out of work', (r) => [
    ...r.deadLetters.map((d) => `dead letter: ${d.kind} ${d.error}`),
    ...r.errors.map((e) => `stand-in error: ${e.split('\n')[0]}`),
    ...(r.ending === 'idle' ? [] : [`the run ended at its ${r.ending}`]),
  ]],
];

export interface SweepFinding {
  readonly base: string;
  readonly point: string;
  /** `none`: the run without faults already broke the rule. */
  readonly fault: CallPointFault | 'none';
  readonly invariant: string;
  readonly detail: string;
}

export interface SweepReport {
  readonly rows: ReadonlyArray<{ base: string; path: string; sites: number; runs: number; findings: number }>;
  readonly findings: readonly SweepFinding[];
  readonly runs: number;
  readonly sites: number;
  /** The handler's entry paths the runs went through. */
  readonly paths: readonly string[];
  /** The faults the runs used. */
  readonly faults: readonly CallPointFault[];
}

/** The names of the base runs whose name contains `filter`. */
export function sweepBaseNames(filter: string): string[] {
  return BASES.filter((b) => b.name.includes(filter)).map((b) => b.name);
}

/** A part of a base run's call sites: every `of`-th one from the `index`-th. */
export interface SweepShard {
  readonly index: number;
  readonly of: number;
}

/**
 * The sweep over one base run, named exactly, or over a shard of its call
 * sites: each run is independent of the others, so bases and shards may run
 * in separate processes (each shard runs the base without faults again, and
 * only the first checks that run). `progress` hears of the base as it starts,
 * and of each finding; `handler`: another build of the handler (to see what
 * the sweep finds in an earlier one).
 */
export async function sweepBase(
  name: string, progress: (line: string) => void = () => undefined, handler?: HandlerFactory, shard: SweepShard = { index: 0, of: 1 },
): Promise<SweepReport> {
  const base = BASES.find((b) => b.name === name);
  if (!base) throw new Error(`no base run of the sweep is named "${name}"`);
  const rows: Array<{ base: string; path: string; sites: number; runs: number; findings: number }> = [];
  const findings: SweepFinding[] = [];
  const paths = new Set<string>();
  progress(base.name);
  const clean = await runScenario({ ...base.options, name: base.name, handler });
  for (const [invariant, check] of shard.index === 0 ? INVARIANTS : []) {
    const broken = check(clean, clean);
    if (broken.length > 0) findings.push({ base: base.name, point: 'without faults', fault: 'none', invariant, detail: broken.join('; ') });
  }
  for (const site of sitesOf(clean).filter((_, n) => n % shard.of === shard.index)) {
    const path = site.kind;
    paths.add(path);
    let row = rows.find((x) => x.path === path);
    if (!row) rows.push(row = { base: base.name, path, sites: 0, runs: 0, findings: 0 });
    row.sites++;
    for (const fault of base.faults) {
      const point: CallPoint = { kind: site.kind, nth: site.nth, call: site.call, fault };
      const label = `${site.kind} #${site.nth + 1}, call ${site.call} (${site.operation})`;
      const r = await runScenario({ ...base.options, name: `${base.name}: ${label}, ${fault}`, callPoint: point, handler });
      row.runs++;
      const broken: Array<[string, string]> = r.callPointReached ? [] : [['the point is reached', 'the run never made this call']];
      for (const [invariant, check] of INVARIANTS) for (const detail of check(r, clean)) broken.push([invariant, detail]);
      for (const [invariant, detail] of broken) {
        findings.push({ base: base.name, point: label, fault, invariant, detail });
        progress(`  ✗ ${label}, ${fault}: ${invariant}: ${detail}`);
      }
      if (broken.length > 0) row.findings++;
    }
  }
  return { rows, findings, runs: sum(rows, 'runs'), sites: sum(rows, 'sites'), paths: [...paths], faults: base.faults };
}

/** One report of several, in the order given; the rows of a base run's shards add up. */
export function mergeSweepReports(reports: readonly SweepReport[]): SweepReport {
  const rows: Array<SweepReport['rows'][number]> = [];
  for (const row of reports.flatMap((r) => r.rows)) {
    const same = rows.findIndex((x) => x.base === row.base && x.path === row.path);
    if (same < 0) rows.push({ ...row });
    else rows[same] = { ...row, sites: rows[same].sites + row.sites, runs: rows[same].runs + row.runs, findings: rows[same].findings + row.findings };
  }
  return {
    rows,
    findings: reports.flatMap((r) => r.findings),
    runs: sum(rows, 'runs'),
    sites: sum(rows, 'sites'),
    paths: [...new Set(reports.flatMap((r) => r.paths))],
    faults: [...new Set(reports.flatMap((r) => r.faults))],
  };
}

function sum(rows: SweepReport['rows'], key: 'runs' | 'sites'): number {
  return rows.reduce((n, x) => n + x[key], 0);
}

/** The sweep's table: its size by base run and path, then each finding. */
export function sweepTable(report: SweepReport): string[] {
  const lines: string[] = [];
  const w = Math.max(...report.rows.map((r) => r.base.length), 4) + 2;
  lines.push(`${'base run'.padEnd(w)}${'path'.padEnd(20)}${'call sites'.padStart(10)}${'runs'.padStart(7)}${'runs with findings'.padStart(20)}`);
  for (const r of report.rows) {
    lines.push(`${r.base.padEnd(w)}${r.path.padEnd(20)}${String(r.sites).padStart(10)}${String(r.runs).padStart(7)}${String(r.findings).padStart(20)}`);
  }
  lines.push(`${report.paths.length} paths, ${report.sites} call sites, ${report.faults.length} faults, ${report.runs} runs, ${report.findings.length} findings`);
  for (const f of report.findings) lines.push(`  ✗ ${f.base}: ${f.point}, ${f.fault}: ${f.invariant}: ${f.detail}`);
  return lines;
}
