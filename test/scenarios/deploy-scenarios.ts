/**
 * Scenarios of deploys: the stack on a group of the same app, created,
 * updated and deleted during the run by the stand-in's model of
 * CloudFormation (test/standin/cloudformation.ts), so that each resource of
 * the runtime and of the hooks takes part only while it exists.
 */
import assert from 'node:assert/strict';
import type { ScenarioResult } from '../standin';
import { assertOneCommandPerAction } from './checks';
import type { Scenario } from './scenarios';

const LAUNCH = { transition: 'launch', timeoutSeconds: 300 } as const;
const TERMINATE = { transition: 'terminate', timeoutSeconds: 300 } as const;
const MINUTES = 60_000;

type StackEvent = NonNullable<ScenarioResult['stack']>['events'][number];

function stackOf(r: ScenarioResult) {
  assert.ok(r.stack, 'the scenario ran without CloudFormation\'s model');
  return r.stack;
}

/** When the resource of this type (and logical id prefix) reached this status, virtual ms. */
function when(r: ScenarioResult, status: string, type: string, idPrefix = ''): number[] {
  return stackOf(r).events.filter((e: StackEvent) => e.status === status && e.type === type && e.logicalId.startsWith(idPrefix)).map((e) => e.atMs);
}

function one(values: number[], what: string): number {
  assert.equal(values.length, 1, what);
  return values[0];
}

/** How long each instance waited on its lifecycle actions, from its first action's start to its last completion, s. */
function waits(r: ScenarioResult, since: (i: number) => number): number[] {
  return r.instances.map((i) => (Math.max(...i.completions.map((c) => c.atMs)) - since(i.index)) / 1000);
}

const fmt = (ms: number) => `${(ms / 1000).toFixed(0)} s`;

export const DEPLOY_SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: 'deploy: first deploy of a new group of 10 with a launch hook',
      hook: LAUNCH,
      instances: 0,
      deploy: { group: { capacity: 10 }, steps: [{ kind: 'deploy', atMs: 0 }] },
    },
    report: (r) => {
      const s = stackOf(r);
      const group = one(when(r, 'CREATE_IN_PROGRESS', 'AWS::AutoScaling::AutoScalingGroup'), 'group created once');
      return `stack ${s.outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}; group created from ${fmt(group)}; `
        + `every instance in service by ${fmt(group + 1000 * Math.max(...waits(r, () => group)))}`;
    },
    check: (r) => {
      const s = stackOf(r);
      assert.deepEqual(s.outcomes.map((o) => o.status), ['CREATE_COMPLETE']);
      assert.equal(r.instances.length, 10);
      // The group, and so its first instances, come after everything the hook needs.
      const group = one(when(r, 'CREATE_IN_PROGRESS', 'AWS::AutoScaling::AutoScalingGroup'), 'group');
      for (const type of ['AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::SSM::Parameter', 'AWS::SSM::Document', 'AWS::StepFunctions::StateMachine']) {
        for (const at of when(r, 'CREATE_COMPLETE', type)) assert.ok(at <= group, `${type} created before the group`);
      }
      assert.equal(r.instances.filter((i) => i.completions.length === 0).length, 0, 'every instance waited on the hook');
      assert.deepEqual(r.instances.map((i) => i.state), Array(10).fill('InService'));
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)), Array(10).fill(['CONTINUE by api']));
      assert.deepEqual(r.instances.map((i) => i.commands), Array(10).fill(1));
      assert.equal(r.summary.commandsSent, 10);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.summary.deadLetters, 0);
    },
  },
  {
    options: {
      name: 'deploy: first deploy with a creation policy waiting for 10 signals',
      hook: LAUNCH,
      instances: 0,
      deploy: {
        group: { capacity: 10, creationPolicy: { count: 10, timeoutSeconds: 1_800 } },
        steps: [{ kind: 'deploy', atMs: 0 }],
      },
    },
    report: (r) => {
      const s = stackOf(r);
      return `stack ${s.outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}; ${s.signals.length} signals, the last at ${fmt(Math.max(...s.signals))}`;
    },
    check: (r) => {
      const s = stackOf(r);
      assert.deepEqual(s.outcomes.map((o) => o.status), ['CREATE_COMPLETE']);
      assert.equal(s.signals.length, 10);
      const groupDone = one(when(r, 'CREATE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'group complete');
      assert.ok(groupDone >= Math.max(...s.signals), 'the group completes with its last signal');
      // Each signal follows its instance's launch action, completed by the handler.
      const lastCompletion = Math.max(...r.instances.flatMap((i) => i.completions.map((c) => c.atMs)));
      assert.ok(groupDone >= lastCompletion);
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)), Array(10).fill(['CONTINUE by api']));
      assert.equal(r.summary.commandsSent, 10);
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    options: {
      name: 'deploy: stack deletion with a terminate hook on 10 instances',
      hook: TERMINATE,
      instances: 0,
      command: { durationMs: [5_000, 60_000] },
      deploy: { group: { capacity: 10 }, initial: {}, steps: [{ kind: 'delete', atMs: MINUTES }] },
    },
    report: (r) => {
      const s = stackOf(r);
      return `stack ${s.outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}; `
        + `instances waited ${Math.max(...waits(r, () => MINUTES)).toFixed(0)} s at most; function deleted at ${fmt(one(when(r, 'DELETE_COMPLETE', 'AWS::Lambda::Function'), 'function'))}`;
    },
    check: (r) => {
      const s = stackOf(r);
      assert.deepEqual(s.outcomes.map((o) => o.status), ['DELETE_COMPLETE']);
      assert.deepEqual(r.instances.map((i) => i.state), Array(10).fill('Terminated'));
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)), Array(10).fill(['CONTINUE by api']));
      assert.deepEqual(r.instances.map((i) => i.commands), Array(10).fill(1));
      assert.equal(r.summary.heartbeatTimeouts, 0);
      // The group goes first: the runtime, the hook's rule, role and parameter outlive its instances.
      const groupGone = one(when(r, 'DELETE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'group deleted');
      const lastCompletion = Math.max(...r.instances.flatMap((i) => i.completions.map((c) => c.atMs)));
      assert.ok(lastCompletion <= groupGone);
      for (const type of ['AWS::Lambda::Function', 'AWS::Events::Rule', 'AWS::IAM::Role', 'AWS::SSM::Parameter']) {
        for (const at of when(r, 'DELETE_IN_PROGRESS', type)) assert.ok(at >= groupGone, `${type} deleted after the group`);
      }
    },
  },
  {
    options: {
      name: 'deploy: an update removes one of two terminate hooks while both have actions in flight',
      hook: TERMINATE,
      hooks: [TERMINATE],
      instances: 0,
      // Long enough to still run when the update reaches the group.
      command: { durationMs: [120_000, 240_000] },
      deploy: {
        group: { capacity: 10 },
        initial: { hooks: [0, 1] },
        steps: [
          { kind: 'scale', atMs: 0, desired: 0 },
          { kind: 'deploy', atMs: 20_000, hooks: [0] },
        ],
      },
    },
    report: (r) => {
      const [kept, removed] = stackOf(r).hookNames;
      const of = (hook: string) => r.instances.flatMap((i) => i.completions.filter((c) => c.hook === hook));
      const by = (hook: string) => Object.entries(of(hook).reduce<Record<string, number>>((m, c) => ({ ...m, [`${c.result} by ${c.by}`]: (m[`${c.result} by ${c.by}`] ?? 0) + 1 }), {}))
        .map(([k, v]) => `${v} ${k}`).join(', ');
      const removedDocument = stackOf(r).documentNames[1];
      const statuses = r.commands.filter((c) => c.document === removedDocument)
        .map((c) => (c.status === 'Success' ? 'Success' : `${c.status} (${c.statusDetails})`))
        .reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {});
      return `kept hook: ${by(kept)}; removed hook: ${by(removed)}, its commands ${JSON.stringify(statuses)}; `
        + `stack ${stackOf(r).outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}`;
    },
    check: (r) => {
      const s = stackOf(r);
      const [kept, removed] = s.hookNames;
      assert.deepEqual(s.outcomes.map((o) => o.status), ['SCALED', 'UPDATE_COMPLETE']);
      assert.deepEqual(r.instances.map((i) => i.state), Array(10).fill('Terminated'));
      // The remaining hook: every action completed by the handler, none by the heartbeat.
      for (const i of r.instances) {
        assert.deepEqual(i.completions.filter((c) => c.hook === kept).map((c) => `${c.result} by ${c.by}`), ['CONTINUE by api'], `instance ${i.index}, kept hook`);
      }
      // The removed hook's in-flight actions: the group's update deletes the hook, and Auto Scaling completes them (CONTINUE on termination).
      for (const i of r.instances) {
        const c = i.completions.filter((x) => x.hook === removed);
        assert.equal(c.length, 1, `instance ${i.index}, removed hook`);
        assert.equal(c[0].result, 'CONTINUE');
      }
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.summary.commandsSent, 20, 'both hooks had sent their commands before the update');
    },
  },
  {
    options: {
      name: 'deploy: upgrade from the earlier layout (separate hook resource, own function) on a group of the app',
      hook: LAUNCH,
      instances: 0,
      deploy: {
        group: { capacity: 5 },
        initial: { layout: 'earlier' },
        steps: [
          { kind: 'deploy', atMs: 0 },
          { kind: 'scale', atMs: 20 * MINUTES, desired: 10 },
        ],
      },
    },
    report: (r) => {
      const s = stackOf(r);
      const oldHook = one(when(r, 'DELETE_COMPLETE', 'AWS::AutoScaling::LifecycleHook'), 'earlier hook deleted');
      return `stack ${s.outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}; earlier hook deleted at ${fmt(oldHook)}; `
        + `new launches: ${r.instances.slice(5).map((i) => i.completions.map((c) => `${c.result} by ${c.by}`).join('+')).join(', ')}`;
    },
    check: (r) => {
      const s = stackOf(r);
      assert.deepEqual(s.outcomes.map((o) => o.status), ['UPDATE_COMPLETE', 'SCALED']);
      const [newHook] = s.hookNames;
      // The earlier hook resource was removed in the cleanup phase, after the group had the new hook.
      const groupUpdated = one(when(r, 'UPDATE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'group updated');
      const oldHook = one(when(r, 'DELETE_COMPLETE', 'AWS::AutoScaling::LifecycleHook'), 'earlier hook deleted');
      assert.ok(oldHook > groupUpdated);
      assert.equal(r.instances.length, 10);
      // The instances of before the upgrade: untouched.
      for (const i of r.instances.slice(0, 5)) assert.deepEqual([i.state, i.completions.length], ['InService', 0]);
      // The new launches, after the cleanup: the new hook holds them and the runtime serves them.
      for (const i of r.instances.slice(5)) {
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`), [`${newHook} CONTINUE by api`], `instance ${i.index}`);
        assert.equal(i.commands, 1);
        assert.equal(i.state, 'InService');
      }
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    options: {
      name: 'deploy: the runtime broken (its function fails every invocation), a 5-minute terminate hook',
      hook: TERMINATE,
      instances: 0,
      lambda: { faults: [{ afterCalls: 0, effect: 'crash' }] },
      deploy: { group: { capacity: 10 }, initial: {}, steps: [{ kind: 'scale', atMs: 0, desired: 0 }] },
    },
    report: (r) => {
      const w = waits(r, () => 0);
      return `each instance waited ${Math.min(...w).toFixed(0)}–${Math.max(...w).toFixed(0)} s; ${r.summary.invocations} invocations, all failed; ${r.summary.deadLetters} dead letters`;
    },
    check: (r) => {
      assert.deepEqual(r.instances.map((i) => i.state), Array(10).fill('Terminated'));
      assert.deepEqual(r.instances.map((i) => i.completions.map((c) => `${c.result} by ${c.by}`)), Array(10).fill(['CONTINUE by heartbeat']));
      assert.equal(r.summary.commandsSent, 0);
      // The heartbeat timeout of the group's hook: 300 s + 600 s.
      for (const w of waits(r, () => 0)) assert.ok(w <= 900, `waited ${w} s`);
      assert.ok(r.invocations.length > 0 && r.invocations.every((i) => i.result === 'crash'));
    },
  },
  {
    options: {
      name: 'deploy: an update removes one of two launch hooks while both have actions in flight',
      hook: LAUNCH,
      hooks: [LAUNCH],
      instances: 0,
      command: { durationMs: [120_000, 240_000] },
      deploy: {
        group: { capacity: 10 },
        steps: [
          { kind: 'deploy', atMs: 0, hooks: [0, 1] },
          { kind: 'deploy', atMs: 150_000, hooks: [0] },
        ],
      },
    },
    report: (r) => {
      const [kept, removed] = stackOf(r).hookNames;
      const count = (hook: string) => r.instances.flatMap((i) => i.completions.filter((c) => c.hook === hook).map((c) => `${c.result} by ${c.by}`))
        .reduce<Record<string, number>>((m, k) => ({ ...m, [k]: (m[k] ?? 0) + 1 }), {});
      const refused = r.calls.filter((c) => c.operation === 'CompleteLifecycleAction' && c.error).length;
      return `kept hook: ${JSON.stringify(count(kept))}; removed hook: ${JSON.stringify(count(removed))}; `
        + `${r.instances.filter((i) => i.state === 'Terminated').length} instances terminated; ${refused} CompleteLifecycleAction refused (no active action)`;
    },
    check: (r) => {
      const s = stackOf(r);
      const [kept, removed] = s.hookNames;
      assert.deepEqual(s.outcomes.map((o) => o.status), ['CREATE_COMPLETE', 'UPDATE_COMPLETE']);
      // DeleteLifecycleHook completes a launching instance's outstanding action with ABANDON: the launch is abandoned,
      // the instance terminated, and its action on the remaining hook ends with it.
      for (const i of r.instances) {
        assert.deepEqual(i.completions.map((c) => `${c.hook === removed ? 'removed' : c.hook === kept ? 'kept' : c.hook} ${c.result} by ${c.by}`), ['removed ABANDON by hook-deleted'], `instance ${i.index}`);
        assert.equal(i.state, 'Terminated');
      }
      assert.equal(r.summary.heartbeatTimeouts, 0);
    },
  },
  {
    options: {
      name: 'deploy: upgrade from the earlier layout keeping an explicit lifecycleHookName: the cleanup deletes the hook (docs: rename it)',
      hook: LAUNCH,
      instances: 0,
      deploy: {
        group: { capacity: 5 },
        hookName: 'web-bootstrap',
        legacyHookName: 'web-bootstrap',
        initial: { layout: 'earlier' },
        steps: [
          { kind: 'deploy', atMs: 0 },
          { kind: 'scale', atMs: 20 * MINUTES, desired: 10 },
        ],
      },
    },
    report: (r) => `new launches: ${r.instances.slice(5).map((i) => `${i.state} with ${i.completions.length} actions, ${i.commands} commands`).join('; ')}`,
    check: (r) => {
      const s = stackOf(r);
      assert.deepEqual(s.outcomes.map((o) => o.status), ['UPDATE_COMPLETE', 'SCALED']);
      assert.deepEqual(s.hookNames, ['web-bootstrap']);
      // The group's update put the hook under the name the earlier resource had; the cleanup's DeleteLifecycleHook
      // of that resource then deleted it: later launches wait on no hook and run no commands.
      for (const i of r.instances.slice(5)) assert.deepEqual([i.state, i.completions.length, i.commands], ['InService', 0, 0], `instance ${i.index}`);
      assert.equal(r.summary.commandsSent, 0);
    },
  },
  {
    options: {
      name: 'deploy: a replacing update of the group (new machine image): the old group\'s instances run the terminate hook, the new group\'s the launch hook',
      hook: TERMINATE,
      hooks: [LAUNCH],
      instances: 0,
      deploy: {
        group: { capacity: 10, updatePolicy: 'replacing' },
        steps: [
          { kind: 'deploy', atMs: 0 },
          // Soon after the first deploy, while the function's environments remember which groups carry the tag.
          { kind: 'deploy', atMs: 4 * MINUTES, imageId: 'ami-0standin0000001' },
        ],
      },
    },
    report: (r) => {
      const s = stackOf(r);
      const [terminateHook, launchHook] = s.hookNames;
      const old = r.instances.filter((i) => i.group === s.groupName);
      const replacement = r.instances.filter((i) => i.group !== s.groupName);
      const oldGone = one(when(r, 'DELETE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'old group deleted');
      // From each launch's lifecycle event to its completion.
      const launchWaits = replacement.map((i) => {
        const c = i.completions.find((x) => x.hook === launchHook);
        const event = r.events.find((e) => e.kind === 'lifecycle' && e.instance === i.index);
        return c && event ? (c.atMs - event.atMs) / 1000 : NaN;
      });
      const ignored = r.logs.filter((l) => l.text.includes('does not carry the hook')).length;
      const refused = r.calls.filter((c) => c.operation === 'CompleteLifecycleAction' && c.error).length;
      const terminateDone = old.map((i) => i.completions.find((c) => c.hook === terminateHook)?.atMs ?? NaN);
      return `stack ${s.outcomes.map((o) => `${o.status} at ${fmt(o.atMs)}`).join(', ')}; new group's ${replacement.length} launches: `
        + `${replacement.filter((i) => i.commands === 1 && i.state === 'InService').length} ran their command, event to completion at most ${Math.max(...launchWaits).toFixed(0)} s `
        + `(${ignored} events ignored, ${refused} completions refused); `
        + `old group's ${old.length} terminations: ${old.filter((i) => i.completions.some((c) => c.hook === terminateHook && c.by === 'api')).length} completed by the handler, the last at ${fmt(Math.max(...terminateDone))}; `
        + `old group deleted at ${fmt(oldGone)}`;
    },
    check: (r) => {
      const s = stackOf(r);
      const [terminateHook, launchHook] = s.hookNames;
      const [terminateDocument, launchDocument] = s.documentNames;
      assert.deepEqual(s.outcomes.map((o) => o.status), ['CREATE_COMPLETE', 'UPDATE_COMPLETE']);
      // CloudFormation created a second group (both carry the hook's tag) and deleted the first in the cleanup phase.
      const groups = [...new Set(r.instances.map((i) => i.group))];
      assert.equal(groups.length, 2, 'a new group replaced the first');
      assert.equal(groups[0], s.groupName);
      const replaced = one(when(r, 'UPDATE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'group replaced');
      const oldGone = one(when(r, 'DELETE_COMPLETE', 'AWS::AutoScaling::AutoScalingGroup'), 'old group deleted');
      assert.ok(oldGone > replaced);
      const old = r.instances.filter((i) => i.group === groups[0]);
      const replacement = r.instances.filter((i) => i.group === groups[1]);
      assert.deepEqual([old.length, replacement.length], [10, 10]);
      // The old group's instances: launched through the launch hook at the first deploy, terminated through the terminate
      // hook as the cleanup deleted their group, each action completed by the handler after its command.
      for (const i of old) {
        assert.equal(i.state, 'Terminated', `old instance ${i.index}`);
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`),
          [`${launchHook} CONTINUE by api`, `${terminateHook} CONTINUE by api`], `old instance ${i.index}`);
        assert.deepEqual(r.commands.filter((c) => c.instance === i.index).map((c) => `${c.document} ${c.status}`),
          [`${launchDocument} Success`, `${terminateDocument} Success`], `old instance ${i.index}'s commands`);
      }
      // The new group's instances: each ran the launch hook's command and went into service.
      for (const i of replacement) {
        assert.equal(i.state, 'InService', `new instance ${i.index}`);
        assert.deepEqual(i.completions.map((c) => `${c.hook} ${c.result} by ${c.by}`), [`${launchHook} CONTINUE by api`], `new instance ${i.index}`);
        assert.deepEqual(r.commands.filter((c) => c.instance === i.index).map((c) => `${c.document} ${c.status}`), [`${launchDocument} Success`]);
      }
      assertOneCommandPerAction(r);
      assert.equal(r.summary.heartbeatTimeouts, 0);
      assert.equal(r.summary.stuck, 0);
    },
  },
];
