/**
 * Scenarios of one runtime serving hooks on many groups: one function, one
 * action table and one reconciliation pass for every hook, each hook on its
 * own imported group with its own document, role and parameter, as one
 * synthesized stack holds them.
 */
import assert from 'node:assert/strict';
import { groupNameOf, namesOf, resourceContention, throttling } from '../standin';
import type { HookOptions, ScenarioOptions, ScenarioResult } from '../standin';
import { assertOneCommandPerAction, instancesWithTwoCommands } from './checks';
import type { Scenario } from './scenarios';

const TERMINATE = { transition: 'terminate', timeoutSeconds: 300 } as const;

/** `count` terminate hooks, the n-th on group n. */
function hookPerGroup(count: number): { hook: HookOptions; hooks: HookOptions[] } {
  return { hook: { ...TERMINATE, group: 0 }, hooks: Array.from({ length: count - 1 }, (_, n) => ({ ...TERMINATE, group: n + 1 })) };
}

/** Each instance's wait: from its group's scale-in (time 0) to its last completion, s. */
function waits(r: ScenarioResult, group?: string): number[] {
  return r.instances.filter((i) => group === undefined || i.group === group).map((i) => Math.max(...i.completions.map((c) => c.atMs)) / 1000);
}

/** From each instance's command ending to its action's completion, ms, in instance order (instances of `group`). */
function completionDelays(r: ScenarioResult, group: string): number[] {
  return r.instances.filter((i) => i.group === group).map((i) => {
    const command = r.commands.find((c) => c.instance === i.index);
    assert.ok(command?.endedAtMs !== undefined, `instance ${i.index}: no command that ended`);
    return Math.max(...i.completions.map((c) => c.atMs)) - command.endedAtMs;
  });
}

const stats = (values: number[], unit: string, digits = 0) => {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `median ${at(0.5).toFixed(digits)} ${unit}, max ${sorted[sorted.length - 1].toFixed(digits)} ${unit}`;
};

const tally = (keys: string[]) => Object.entries(keys.reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {}))
  .map(([k, v]) => `${v} ${k}`).join(', ');

const GROUPS = 60;
const PER_GROUP = 20;

/** Group 1's Auto Scaling answers every CompleteLifecycleAction with ResourceContention; group 0 is left alone. */
const TWO_GROUPS: ScenarioOptions = {
  name: 'two hooks on two groups, group 2\'s CompleteLifecycleAction failing every call: group 1\'s completions are not delayed',
  ...hookPerGroup(2),
  instances: 10,
  command: { durationMs: [5_000, 30_000] },
};

export const GROUP_SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: `${GROUPS} hooks on ${GROUPS} groups, each scaling in ${PER_GROUP} instances, 10% throttling: one runtime serves them all`,
      ...hookPerGroup(GROUPS),
      instances: PER_GROUP,
      command: { durationMs: [5_000, 30_000] },
      api: { faults: throttling(0.1) },
    },
    report: (r) => {
      const throttled = r.calls.filter((c) => c.error === 'Throttling' || c.error === 'ThrottlingException').length;
      const assumed = r.calls.filter((c) => c.operation === 'AssumeRole' && !c.error).length;
      return `${r.instances.length} instances: ${tally(r.instances.flatMap((i) => i.completions.map((c) => `${c.result} by ${c.by}`)))}; `
        + `waits ${stats(waits(r), 's')}; ${throttled} calls throttled, ${r.summary.retries} retried; `
        + `${instancesWithTwoCommands(r).length} instances with two commands; ${assumed} roles assumed; `
        + `${r.invocations.filter((i) => i.kind === 'schedule').length} passes`;
    },
    check: (r) => {
      assert.equal(r.instances.length, GROUPS * PER_GROUP);
      assert.equal(r.summary.stuck, 0, 'instances left waiting');
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.ok(r.summary.retries > 0, 'the throttling never hit');
      assertOneCommandPerAction(r);
      const groupIndex = new Map(Array.from({ length: GROUPS }, (_, g) => [groupNameOf(g), g]));
      for (const i of r.instances) {
        // The group's own hook, its own document: nothing crossed from one group to another.
        const g = groupIndex.get(i.group)!;
        assert.deepEqual([i.state, i.commands], ['Terminated', 1], `instance ${i.index} of ${i.group}`);
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`), [`${namesOf(g).hookName} CONTINUE by api`], `instance ${i.index}`);
        assert.deepEqual(r.commands.filter((c) => c.instance === i.index).map((c) => c.document), [namesOf(g).documentName], `instance ${i.index}'s document`);
      }
      // Every group's instances were served, 20 each.
      assert.deepEqual(
        Array.from({ length: GROUPS }, (_, g) => r.instances.filter((i) => i.group === groupNameOf(g) && i.state === 'Terminated').length),
        Array(GROUPS).fill(PER_GROUP),
      );
      assert.equal(r.deadLetters.length, 0);
    },
  },
  {
    baseline: TWO_GROUPS,
    options: {
      ...TWO_GROUPS,
      api: { faults: [{ ...resourceContention(), groups: [groupNameOf(1)] }] },
    },
    report: (r, baseline) => {
      const healthy = completionDelays(r, groupNameOf(0));
      const before = completionDelays(baseline!, groupNameOf(0));
      const troubled = r.instances.filter((i) => i.group === groupNameOf(1));
      const refused = r.calls.filter((c) => c.operation === 'CompleteLifecycleAction' && c.error === 'ResourceContention').length;
      return `group 1, command end → completion: ${stats(healthy.map((d) => d / 1000), 's', 2)} (without the trouble: ${stats(before.map((d) => d / 1000), 's', 2)}); `
        + `group 2: ${tally(troubled.flatMap((i) => i.completions.map((c) => `${c.result} by ${c.by}`)))}, each waited ${stats(waits(r, groupNameOf(1)), 's')}, `
        + `${refused} CompleteLifecycleAction refused, ${r.summary.lambdaRetries} Lambda retries, ${r.summary.deadLetters} dead letters`;
    },
    check: (r, baseline) => {
      const healthy = r.instances.filter((i) => i.group === groupNameOf(0));
      const troubled = r.instances.filter((i) => i.group === groupNameOf(1));
      // The healthy group: completed by the handler as its commands end, as fast as without the trouble.
      for (const i of healthy) {
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`), [`${namesOf(0).hookName} CONTINUE by api`], `instance ${i.index}`);
      }
      const delays = completionDelays(r, groupNameOf(0));
      const before = completionDelays(baseline!, groupNameOf(0));
      // Calls' latencies are drawn from the run's random stream, which the other group's failing calls advance: a few
      // hundred ms of difference is latency, a pass (6 minutes) or a Lambda retry (a minute) would be trouble.
      const slowest = Math.max(...before);
      for (const [n, d] of delays.entries()) assert.ok(d <= slowest + 1_000, `healthy instance ${n}: completed ${d} ms after its command ended (without the trouble at most ${slowest} ms)`);
      assert.ok(r.calls.some((c) => c.operation === 'CompleteLifecycleAction' && c.error === 'ResourceContention'), 'the fault never hit');
      // The troubled group: its commands ran; no completion got through, so each action ends by the heartbeat
      // timeout with the hook's default result (CONTINUE), 900 s after the handler's heartbeat before its send.
      for (const i of troubled) {
        assert.equal(i.commands, 1, `instance ${i.index}`);
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`), [`${namesOf(1).hookName} CONTINUE by heartbeat`], `instance ${i.index}`);
        assert.equal(i.state, 'Terminated');
        const heartbeats = r.calls.filter((c) => c.instance === i.index && c.operation === 'RecordLifecycleActionHeartbeat' && c.applied);
        assert.equal(i.completions[0].atMs - heartbeats[heartbeats.length - 1].atMs, 900_000, `instance ${i.index}: the heartbeat timeout after its last heartbeat`);
      }
      assert.equal(r.summary.stuck, 0);
    },
  },
];
