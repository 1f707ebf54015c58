/**
 * Scenarios of the action's context: the commands of a launch and of a
 * terminate hook read their instance, group, hook, transition, stage and
 * notification metadata from `SSM_` environment variables, with the metadata
 * and the names full of shell syntax that must never run; the pass's command
 * (no event) sees the same context but the stage; an agent older than
 * 3.3.2746.0 runs the commands without it, and the handler says so.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { namesOf } from '../standin';
import {
  assert,
  assertCommandsPerInstance,
  assertCompletions,
  assertFinalStates,
  assertHandlerNeverFailed,
  assertOneCommandPerAction,
  ScenarioResult,
} from './checks';
import type { Scenario } from './scenarios';

/** A file the commands would create if any value ran as shell text. */
const CANARY = path.join(os.tmpdir(), `lifecycle-context-scenario-canary-${process.pid}`);

/** Metadata as a team might write it, with shell syntax, quotes and line breaks: 4,000 characters. */
const METADATA = `{"drain": "$(touch ${CANARY})", "note": "\`touch ${CANARY}\`"}\n; touch ${CANARY}\n`.padEnd(4000, '#');

const VARIABLES = [
  'SSM_EC2InstanceId', 'SSM_AutoScalingGroupName', 'SSM_LifecycleHookName', 'SSM_LifecycleTransition',
  'SSM_Origin', 'SSM_Destination', 'SSM_NotificationMetadata',
] as const;

/** The hook's commands: print each variable, NUL-terminated, then the usual step. */
const PRINT_CONTEXT = [...VARIABLES.map((v) => `printf '%s\\0' "$${v}"`), 'lifecycle-step'];

/** What the n-th command's script printed, by variable. */
function seen(r: ScenarioResult, n: number): Record<string, string> {
  const values = r.commands[n].stdout.split('\0');
  return Object.fromEntries(VARIABLES.map((v, i) => [v, values[i]]));
}

/** The stand-in's group and the scenario's hook. */
const { groupName: GROUP, hookName: HOOK } = namesOf(0);

// Gone before any scenario of this file runs: each one checks that it is still absent.
fs.rmSync(CANARY, { force: true });

function assertNothingRan(): void {
  assert.equal(fs.existsSync(CANARY), false, 'a value ran as shell text');
}

export const CONTEXT_SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: 'context: a terminate hook\'s commands read their action\'s context, hostile metadata and all',
      hook: { transition: 'terminate', timeoutSeconds: 300, commands: PRINT_CONTEXT, notificationMetadata: METADATA },
      instances: 3,
    },
    report: (r) => `${r.commands.length} commands, each saw ${VARIABLES.length} variables; metadata ${METADATA.length} characters, byte for byte`,
    check: (r) => {
      assertNothingRan();
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertOneCommandPerAction(r);
      for (const [n, command] of r.commands.entries()) {
        assert.deepEqual(seen(r, n), {
          SSM_EC2InstanceId: r.instances[command.instance].id,
          SSM_AutoScalingGroupName: GROUP,
          SSM_LifecycleHookName: HOOK,
          SSM_LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
          SSM_Origin: 'AutoScalingGroup',
          SSM_Destination: 'EC2',
          SSM_NotificationMetadata: METADATA,
        });
        assert.deepEqual(command.ran, ['lifecycle-step']);
      }
      // The handler's lines never hold the metadata.
      assert.equal(r.logs.filter((l) => l.text.includes(CANARY)).length, 0, 'the handler logged the metadata');
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'context: a launch hook\'s commands read theirs, and a warm pool\'s stages',
      hook: { transition: 'launch', timeoutSeconds: 300, commands: PRINT_CONTEXT, notificationMetadata: METADATA },
      instances: 2,
      warmPool: { leaveAfterMs: 120_000 },
    },
    check: (r) => {
      assertNothingRan();
      assertOneCommandPerAction(r);
      assertCommandsPerInstance(r, 2);
      const stages = r.commands.map((c, n) => `${r.instances[c.instance].id === seen(r, n).SSM_EC2InstanceId} ${seen(r, n).SSM_Origin}->${seen(r, n).SSM_Destination}`);
      assert.deepEqual(stages.sort(), ['true EC2->WarmPool', 'true EC2->WarmPool', 'true WarmPool->AutoScalingGroup', 'true WarmPool->AutoScalingGroup']);
      for (const n of r.commands.keys()) {
        assert.equal(seen(r, n).SSM_LifecycleTransition, 'autoscaling:EC2_INSTANCE_LAUNCHING');
        assert.equal(seen(r, n).SSM_AutoScalingGroupName, GROUP);
        assert.equal(seen(r, n).SSM_LifecycleHookName, HOOK);
        assert.equal(seen(r, n).SSM_NotificationMetadata, METADATA);
      }
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'context: the pass\'s command for a lost lifecycle event reads the hook\'s context, without a stage',
      hook: { transition: 'terminate', timeoutSeconds: 60, commands: PRINT_CONTEXT, notificationMetadata: METADATA },
      instances: 1,
      events: { faults: [{ kind: 'lifecycle', instances: [0], lose: true }] },
      reconciliation: { phaseMs: 120_000 },
    },
    check: (r) => {
      assertNothingRan();
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assert.equal(r.commands.length, 1);
      // The pass knows the group and the hook from the hook's settings, the transition from the hook; no event, no stage.
      assert.deepEqual(seen(r, 0), {
        SSM_EC2InstanceId: r.instances[0].id,
        SSM_AutoScalingGroupName: GROUP,
        SSM_LifecycleHookName: HOOK,
        SSM_LifecycleTransition: 'autoscaling:EC2_INSTANCE_TERMINATING',
        SSM_Origin: '',
        SSM_Destination: '',
        SSM_NotificationMetadata: METADATA,
      });
      assertHandlerNeverFailed(r);
    },
  },
  {
    options: {
      name: 'context: agents older than 3.3.2746.0 run the commands without it, and the handler warns',
      hook: { transition: 'launch', timeoutSeconds: 300, commands: PRINT_CONTEXT, notificationMetadata: METADATA },
      instances: 2,
      agent: { version: '3.3.1142.0' },
    },
    report: (r) => `${r.logs.filter((l) => l.text.includes('older than 3.3.2746.0')).length} warnings for ${r.instances.length} launches`,
    check: (r) => {
      assertNothingRan();
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      assertOneCommandPerAction(r);
      for (const n of r.commands.keys()) {
        assert.deepEqual(seen(r, n), Object.fromEntries(VARIABLES.map((v) => [v, ''])));
      }
      const warnings = r.logs.filter((l) => l.text.includes('older than 3.3.2746.0'));
      assert.equal(warnings.length, 2, 'one warning per launch');
      for (const i of r.instances) assert.ok(warnings.some((w) => w.text.includes(i.id) && w.text.includes('3.3.1142.0')));
      assertHandlerNeverFailed(r);
    },
  },
];
