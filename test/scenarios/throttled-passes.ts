/**
 * The reconciliation pass under throttling: what it finds, it finishes before
 * the heartbeat timeout. A burst of terminations whose events are partly lost
 * while a fifth of every call is throttled; and commands of hours kept alive
 * by the pass's heartbeats while half of those heartbeats are throttled.
 */
import { throttling } from '../standin';
import type { HookOptions, ScenarioOptions } from '../standin';
import { assert, assertCompletions, assertOneCommandPerAction, ScenarioResult } from './checks';

interface Scenario {
  readonly options: ScenarioOptions;
  readonly seeds?: readonly number[];
  readonly check: (r: ScenarioResult) => void;
  readonly report?: (r: ScenarioResult) => string;
  readonly long?: boolean;
}

const FIVE_SEEDS = [1, 2, 3, 4, 5] as const;
/** 6 hours less 10 minutes. */
const LONG_COMMAND_MS = 6 * 3_600_000 - 600_000;

/** Which invocations were reconciliation passes, by request id. */
function passIds(r: ScenarioResult): Set<string> {
  return new Set(r.invocations.filter((i) => i.kind === 'schedule').map((i) => i.requestId));
}

/** Actions ended by their heartbeat timeout, and of those, how many never had a command. */
function toTheHeartbeat(r: ScenarioResult): { reached: number; unsent: number } {
  const reached = r.instances.filter((i) => i.completions.some((c) => c.by === 'heartbeat'));
  return { reached: reached.length, unsent: reached.filter((i) => i.commands === 0).length };
}

/**
 * The least time any action had left before its heartbeat timeout, over every
 * interval between its start, its successful heartbeats and its completion.
 */
function leastMarginS(r: ScenarioResult, heartbeatTimeoutSeconds: number): number {
  let least = Infinity;
  for (const i of r.instances) {
    const beats = r.calls.filter((c) => c.instance === i.index && c.operation === 'RecordLifecycleActionHeartbeat' && c.applied).map((c) => c.atMs);
    const end = i.completions[0]?.atMs;
    if (end === undefined) continue;
    const marks = [0, ...beats.filter((t) => t < end), end].sort((a, b) => a - b);
    for (let n = 1; n < marks.length; n++) least = Math.min(least, heartbeatTimeoutSeconds - (marks[n] - marks[n - 1]) / 1000);
  }
  return Math.round(least);
}

function burst(seeds: readonly number[]): Scenario {
  return {
    seeds,
    // 5 to 17 minutes of real time a seed on two cores.
    long: true,
    options: {
      name: '2,000 terminations, 20% of every call throttled (Auto Scaling, SSM, DynamoDB), 5% of events lost -> none to the heartbeat',
      hook: { transition: 'terminate', timeoutSeconds: 300 },
      instances: 2_000,
      command: { durationMs: [5_000, 60_000] },
      api: { faults: throttling(0.2) },
      store: { faults: [{ answer: 'throttled', rate: 0.2 }] },
      events: { lossRate: { 'lifecycle': 0.05, 'command-status': 0.05 } },
    },
    check: (r) => {
      assert.deepEqual(toTheHeartbeat(r), { reached: 0, unsent: 0 }, 'actions ended by the heartbeat timeout (and of those, never sent a command)');
      assertCompletions(r, 'CONTINUE', 'api');
      assertOneCommandPerAction(r);
      assert.equal(r.summary.stuck, 0);
    },
    report: (r) => {
      const passes = passIds(r);
      const byPass = r.instances.filter((i) => i.completions.some((c) => c.invocation !== undefined && passes.has(c.invocation))).length;
      const last = Math.max(...r.instances.map((i) => i.completions[0]?.atMs ?? 0));
      const { reached, unsent } = toTheHeartbeat(r);
      return `to the heartbeat ${reached} (never sent ${unsent}); completed by a pass ${byPass}; last completion at ${(last / 1000).toFixed(0)} s;`
        + ` least margin to the heartbeat timeout ${leastMarginS(r, 900)} s of 900`;
    },
  };
}

/** 20 commands of 6 hours less 10 minutes, kept alive by the pass's heartbeats, half of them throttled. */
function longCommands(hook: HookOptions, seeds: readonly number[]): Scenario {
  return {
    seeds,
    options: {
      name: `${hook.transition} hook, 20 commands of 5 h 50 min, half the heartbeats throttled -> none to the heartbeat`,
      hook,
      instances: 20,
      agent: { registrationDelayMs: [10_000, 20_000] },
      command: { durationMs: LONG_COMMAND_MS },
      api: { faults: throttling(0.5, { operations: ['RecordLifecycleActionHeartbeat'] }) },
    },
    check: (r) => {
      assert.deepEqual(toTheHeartbeat(r), { reached: 0, unsent: 0 }, 'actions ended by the heartbeat timeout (and of those, never sent a command)');
      assertCompletions(r, 'CONTINUE', 'api');
      assertOneCommandPerAction(r);
      assert.ok(r.commands.every((c) => c.status === 'Success'), 'every command ran to its end');
    },
    report: (r) => {
      const passes = passIds(r);
      const beats = r.calls.filter((c) => c.operation === 'RecordLifecycleActionHeartbeat' && c.invocation !== undefined && passes.has(c.invocation));
      const throttled = beats.filter((c) => c.error).length;
      return `to the heartbeat ${toTheHeartbeat(r).reached}; pass heartbeats ${beats.length - throttled} through, ${throttled} throttled;`
        + ` least margin to the heartbeat timeout ${leastMarginS(r, 7_200)} s of 7,200`;
    },
  };
}

export const THROTTLED_PASSES: readonly Scenario[] = [
  burst(FIVE_SEEDS),
  longCommands({ transition: 'launch', timeoutSeconds: 21_600 }, FIVE_SEEDS),
  longCommands({ transition: 'terminate', timeoutSeconds: 21_600 }, FIVE_SEEDS),
];
