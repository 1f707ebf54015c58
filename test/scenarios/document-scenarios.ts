/**
 * Scenarios of hooks that run what the team already has: an existing Command
 * document (AWS-RunRemoteScript, or the team's own with parameters and a
 * version) or a script in S3. The hook's own document delegates
 * (`aws:runDocument`, `aws:downloadContent`), and the stand-in's agent runs
 * every step (test/standin/documents.ts): the runtime sees one document per
 * hook, as for inline commands.
 */
import {
  assert,
  assertCommandComments,
  assertCommandsPerInstance,
  assertCompletions,
  assertFinalStates,
  assertHandlerNeverFailed,
  assertMetricsAddUp,
  assertOneCommandPerAction,
  ScenarioResult,
} from './checks';
import type { Scenario } from './scenarios';
import type { AccountDocument } from '../standin/documents';

const TERMINATE = { transition: 'terminate', timeoutSeconds: 300 } as const;
const LAUNCH = { transition: 'launch', timeoutSeconds: 300 } as const;

/** Every instance's one command ran these programs, and the runtime saw one document: the hook's. */
function assertRan(r: ScenarioResult, programs: readonly string[]): void {
  assert.deepEqual(r.commands.map((c) => c.ran), Array(r.instances.length).fill(programs), 'programs each command ran');
  assert.equal(new Set(r.commands.map((c) => c.document)).size, 1, 'one document: the hook\'s');
}

function statuses(r: ScenarioResult): string {
  const counts = new Map<string, number>();
  for (const c of r.commands) counts.set(c.status, (counts.get(c.status) ?? 0) + 1);
  return [...counts].map(([s, n]) => `${n} ${s}`).join(', ');
}

/**
 * A team's drain document. Version 2: a String parameter in its first step's
 * lines (under its own `set -e`), and a StringList parameter that is its
 * second step's whole `runCommand`; no `onFailure`, so the second step runs
 * even when the first fails.
 */
const TEAM_DRAIN: AccountDocument = {
  versions: [{
    // Version 1, the default: what the team ran before; it calls a program no instance has.
    parameters: { queue: { type: 'String' } },
    mainSteps: [{ action: 'aws:runShellScript', name: 'drain', inputs: { runCommand: ['retired-drain {{ queue }}'] } }],
  }, {
    parameters: { queue: { type: 'String', default: 'default' }, then: { type: 'StringList', default: [] } },
    mainSteps: [
      { action: 'aws:runShellScript', name: 'drain', inputs: { runCommand: ['set -e', 'flush-queue {{ queue }}', 'echo flushed'] } },
      { action: 'aws:runShellScript', name: 'then', inputs: { runCommand: '{{ then }}' } },
    ],
  }],
  defaultVersion: 1,
};

export const DOCUMENT_SCENARIOS: readonly Scenario[] = [
  {
    options: {
      name: 'documents: terminate hook on AWS-RunRemoteScript running a script from S3, 10 instances',
      hook: {
        ...TERMINATE,
        document: {
          name: 'AWS-RunRemoteScript',
          parameters: {
            sourceType: 'S3',
            sourceInfo: '{"path": "https://s3.eu-west-1.amazonaws.com/team-scripts/ops/drain.sh"}',
            commandLine: 'drain.sh --wait 30',
            executionTimeout: '{{ executionTimeout }}',
          },
        },
      },
      instances: 10,
      s3Objects: { 'team-scripts/ops/drain.sh': '#!/bin/sh\nset -e\nflush-queue "$@"\n' },
      programs: { 'flush-queue': {} },
    },
    report: (r) => `commands ${statuses(r)}; each ran ${JSON.stringify(r.commands[0]?.ran)}`,
    check: (r) => {
      assertOneCommandPerAction(r);
      assertCommandsPerInstance(r, 1);
      assertFinalStates(r, 'Terminated');
      assertCompletions(r, 'CONTINUE', 'api');
      assertRan(r, ['flush-queue']);
      assertCommandComments(r);
      assertHandlerNeverFailed(r);
      assertMetricsAddUp(r);
    },
  },
  {
    options: {
      name: 'documents: launch hook on the team\'s own document, version 2 with parameters, 10 instances',
      hook: { ...LAUNCH, document: { name: 'team-drain', version: '2', parameters: { queue: 'orders', then: ['stop-service web', 'stop-service worker'] } } },
      instances: 10,
      documents: { 'team-drain': TEAM_DRAIN },
      programs: { 'flush-queue': {}, 'stop-service': {} },
    },
    report: (r) => `commands ${statuses(r)}; each ran ${JSON.stringify(r.commands[0]?.ran)}`,
    check: (r) => {
      assertOneCommandPerAction(r);
      assertCommandsPerInstance(r, 1);
      assertFinalStates(r, 'InService');
      assertCompletions(r, 'CONTINUE', 'api');
      // Version 2, not the default version 1 (whose program no instance has), with both lines of the list.
      assertRan(r, ['flush-queue', 'stop-service', 'stop-service']);
      assertHandlerNeverFailed(r);
      assertMetricsAddUp(r);
    },
  },
  {
    options: {
      name: 'documents: the team\'s document fails on 3 of 10 terminating instances: its own steps decide, ABANDON as configured',
      hook: { ...TERMINATE, defaultResult: 'ABANDON', document: { name: 'team-drain', version: '$LATEST', parameters: { then: ['stop-service web'] } } },
      instances: 10,
      documents: { 'team-drain': TEAM_DRAIN },
      programs: { 'flush-queue': [{ exitCode: 3, instances: [1, 4, 8] }, {}], 'stop-service': {} },
    },
    report: (r) => `commands ${statuses(r)}; results ${r.instances.map((i) => i.completions.map((c) => c.result).join('+')).join(' ')}`,
    check: (r) => {
      assertOneCommandPerAction(r);
      assertCommandsPerInstance(r, 1);
      assertFinalStates(r, 'Terminated');
      const failed = [1, 4, 8];
      assertCompletions(r, r.instances.map((i) => (failed.includes(i.index) ? 'ABANDON' : 'CONTINUE')), 'api');
      for (const c of r.commands) {
        const fails = failed.includes(c.instance);
        assert.equal(c.status, fails ? 'Failed' : 'Success', `command of instance ${c.instance}`);
        // Its own rules: set -e ended the first step at the failed line, and the second step ran all the same (no onFailure).
        assert.deepEqual(c.ran, ['flush-queue', 'stop-service'], `programs of instance ${c.instance}`);
        assert.equal(c.stdout.includes('flushed'), !fails, `first step of instance ${c.instance} went past the failed line`);
      }
      assertHandlerNeverFailed(r);
      assertMetricsAddUp(r);
    },
  },
  {
    options: {
      name: 'documents: terminate hook on a script in S3 (scriptBucket, scriptKey) whose exit status fails 2 of 6',
      hook: { ...TERMINATE, script: { bucket: 'team-scripts', key: 'ops/drain v2.sh' } },
      instances: 6,
      // No set -e in the script: its last command's status is its exit status, which the hook's document passes on.
      s3Objects: { 'team-scripts/ops/drain v2.sh': 'flush-queue\nstop-service web\n' },
      programs: { 'flush-queue': {}, 'stop-service': [{ exitCode: 1, instances: [0, 5] }, {}] },
    },
    report: (r) => `commands ${statuses(r)}`,
    check: (r) => {
      assertOneCommandPerAction(r);
      assertCommandsPerInstance(r, 1);
      assertFinalStates(r, 'Terminated');
      // A terminate hook's default: CONTINUE either way; the failures show in the commands.
      assertCompletions(r, 'CONTINUE', 'api');
      assert.deepEqual(r.commands.map((c) => [c.instance, c.status]).sort(),
        [[0, 'Failed'], [1, 'Success'], [2, 'Success'], [3, 'Success'], [4, 'Success'], [5, 'Failed']]);
      assertRan(r, ['flush-queue', 'stop-service']);
      assertHandlerNeverFailed(r);
      assertMetricsAddUp(r);
    },
  },
];
