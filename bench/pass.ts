/**
 * What the reconciliation pass costs: a month of passes over a group where
 * nothing waits (the price of having the pass at all), and passes over 1,000
 * instances waiting in the hook at once. Simulated on the stand-in with the
 * bundled handler and the synthesized schedule.
 */
import { DYNAMODB_PRICES, requestUnits } from './claim';
import { LAMBDA_PRICES } from './prices';
import { runScenario } from '../test/standin';
import type { ScenarioOptions, ScenarioResult } from '../test/standin';

/** AWS's billing month: 730 hours. */
export const MONTH_MS = 730 * 3_600_000;

/**
 * Lambda bills the init phase of every cold start (since 1 August 2025). An
 * environment idle for a period (6 minutes) is likely gone (Lambda does not
 * say how long it keeps one), so each pass is counted as a cold start with
 * this init time: above the time this machine takes to load the handler's
 * modules (the Handler table: 0.1 to 0.3 s), so an upper bound on the bill.
 */
export const PASS_INIT_MS = 500;

export interface PassCostRow {
  readonly condition: string;
  /** The virtual time the row covers. */
  readonly spanMs: number;
  readonly passes: number;
  /** Instances waiting during each pass. */
  readonly waiting: number;
  /** Billed ms of the passes, init of each counted as a cold start included. */
  readonly billedMs: number;
  readonly longestPassMs: number;
  readonly gbSeconds: number;
  /** Auto Scaling and SSM calls made by the passes. */
  readonly apiCalls: number;
  readonly apiCallsByOperation: Readonly<Record<string, number>>;
  readonly wru: number;
  readonly rru: number;
  /** Instances a pass left for the next one because the function's time ran short. */
  readonly left: number;
  /** Dollars at list prices: Lambda requests and GB-s, DynamoDB request units (Auto Scaling and SSM calls and scheduled rules cost nothing). */
  readonly dollars: number;
}

function passRow(condition: string, r: ScenarioResult, spanMs: number, waiting: number): PassCostRow {
  if (r.errors.length > 0) throw new Error(`${condition}: the stand-in failed:\n${r.errors.join('\n')}`);
  const passes = r.invocations.filter((i) => i.kind === 'schedule');
  const ids = new Set(passes.map((i) => i.id));
  const calls = r.calls.filter((c) => c.invocation !== undefined && ids.has(c.invocation));
  const store = r.storeCalls.filter((c) => c.invocation !== undefined && ids.has(c.invocation));
  const billedMs = passes.reduce((sum, i) => sum + (i.billedMs ?? 0) + PASS_INIT_MS, 0);
  const gbSeconds = (billedMs / 1000) * (r.summary.memoryMB / 1024);
  const byOperation: Record<string, number> = {};
  for (const c of calls) byOperation[c.operation] = (byOperation[c.operation] ?? 0) + 1;
  const { wru, rru } = requestUnits(store);
  const left = r.logs
    .filter((l) => l.invocation !== undefined && ids.has(l.invocation) && l.text.includes('"reconciliation pass"'))
    .reduce((sum, l) => sum + ((JSON.parse(l.text) as { left?: number }).left ?? 0), 0);
  return {
    condition,
    spanMs,
    passes: passes.length,
    waiting,
    billedMs,
    longestPassMs: Math.max(0, ...passes.map((i) => i.billedMs ?? 0)),
    gbSeconds,
    apiCalls: calls.length,
    apiCallsByOperation: byOperation,
    wru,
    rru,
    left,
    dollars: passes.length * LAMBDA_PRICES.perMillionRequests / 1e6 + gbSeconds * LAMBDA_PRICES.perGbSecond
      + wru * DYNAMODB_PRICES.perMillionWru / 1e6 + rru * DYNAMODB_PRICES.perMillionRru / 1e6,
  };
}

/** A month of passes with nothing waiting: what the pass costs a hook that is idle. */
async function idleMonth(condition: string, options: Omit<ScenarioOptions, 'name' | 'instances' | 'reconciliation' | 'horizonMs'>): Promise<PassCostRow> {
  const r = await runScenario({
    name: `pass: ${condition}`,
    ...options,
    instances: 0,
    reconciliation: { phaseMs: 0, untilMs: MONTH_MS - 1 },
    horizonMs: MONTH_MS,
  });
  return passRow(condition, r, MONTH_MS, 0);
}

/**
 * 1,000 instances enter a terminate hook at once and run 3-hour commands whose
 * events are all lost: every pass finds 1,000 instances waiting, keeps each
 * action alive with heartbeats and, after the commands end, completes them.
 */
async function thousandWaiting(seed: number): Promise<PassCostRow> {
  const commandMs = 3 * 3_600_000;
  const r = await runScenario({
    name: 'pass: 1,000 instances waiting',
    hook: { transition: 'terminate', timeoutSeconds: 4 * 3_600 },
    instances: 1_000,
    command: { durationMs: commandMs },
    events: { lossRate: { 'command-status': 1 } },
    reconciliation: { phaseMs: 60_000 },
    seed,
  });
  const row = passRow('1,000 instances waiting (3-hour commands, every status event lost)', r, commandMs, 1_000);
  const stuck = r.instances.filter((i) => i.completions[0]?.by !== 'api').length;
  if (stuck > 0) throw new Error(`1,000 instances waiting: ${stuck} actions were not completed by the handler`);
  return row;
}

export interface PassCosts {
  readonly idle: PassCostRow;
  readonly idleLaunch: PassCostRow;
  readonly idleWarmPool: PassCostRow;
  /** One runtime serving 10 and 60 idle hooks: one pass serves them all. */
  readonly idleTen: PassCostRow;
  readonly idleSixty: PassCostRow;
  readonly thousandWaiting: PassCostRow;
}

/** n terminate hooks on the stand-in's group, served by one runtime (the stand-in has one group; one DescribeAutoScalingGroups serves up to 50). */
function hooksOfOneRuntime(n: number, seed: number): Omit<ScenarioOptions, 'name' | 'instances' | 'reconciliation' | 'horizonMs'> {
  const hook = { transition: 'terminate' as const, timeoutSeconds: 300 };
  return { hook, hooks: Array.from({ length: n - 1 }, () => hook), seed };
}

export async function measurePass(seed: number): Promise<PassCosts> {
  return {
    idle: await idleMonth('terminate hook, idle for a month', { hook: { transition: 'terminate', timeoutSeconds: 300 }, seed }),
    idleLaunch: await idleMonth('launch hook, idle for a month', { hook: { transition: 'launch', timeoutSeconds: 300 }, seed }),
    idleWarmPool: await idleMonth('terminate hook on a group with a warm pool, idle for a month', { hook: { transition: 'terminate', timeoutSeconds: 300 }, warmPool: {}, seed }),
    idleTen: await idleMonth('10 hooks on one runtime, idle for a month', hooksOfOneRuntime(10, seed)),
    idleSixty: await idleMonth('60 hooks on one runtime, idle for a month', hooksOfOneRuntime(60, seed)),
    thousandWaiting: await thousandWaiting(seed),
  };
}
