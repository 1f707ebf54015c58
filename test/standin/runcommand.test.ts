import { Agents, statusOfExit } from './agent';
import { VirtualClock } from './clock';
import type { Instance } from './model';
import { ApiError } from './model';
import type { ProgramBehaviour } from './options';
import { Rng } from './rng';
import { CommandDocument, RunCommand, executionTimeoutSeconds } from './runcommand';

const PATTERN = '([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)';
const DOCUMENT: CommandDocument = {
  name: 'Doc',
  version: '1',
  stepName: 'runCommands',
  action: 'aws:runShellScript',
  runCommand: ['lifecycle-step'],
  timeoutSeconds: '{{ executionTimeout }}',
  parameters: { executionTimeout: { default: '300', allowedPattern: PATTERN } },
};

function instance(index = 0): Instance {
  const id = `i-0${'a'.repeat(15)}${index}`;
  const state = 'InService';
  return { index, id, group: 'web-fleet', state, ec2Running: true, exists: true, agent: 'Online', actions: [], completions: [], commandIds: [], agentOptions: {}, commandOptions: {} };
}

function setUp(programs: Record<string, ProgramBehaviour> = {}) {
  const clock = new VirtualClock();
  const rng = new Rng(1);
  const i = instance();
  const agents = new Agents(clock, rng, 'eu-west-1', programs, [i], { online: () => undefined });
  const rc = new RunCommand(clock, rng, '123456789012', 'eu-west-1', [DOCUMENT], 0, new Map([[i.id, i]]), agents, () => undefined);
  return { agents, rc, i };
}

function refusal(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof ApiError) return e.code;
    throw e;
  }
  return 'accepted';
}

describe('the execution timeout, as the agent reads it', () => {
  test.each([
    ['{{ executionTimeout }}', {}, 300],
    ['{{ executionTimeout }}', { executionTimeout: ['7200'] }, 7200],
    ['4', {}, 3600],
    ['5', {}, 5],
    ['172800', {}, 172800],
    ['172801', {}, 3600],
    ['90.9', {}, 90],
    ['soon', {}, 3600],
    [undefined, {}, 3600],
  ])('%s with %j → %d s', (raw, params, expected) => {
    expect(executionTimeoutSeconds(raw, params, DOCUMENT.parameters)).toBe(expected);
  });
});

describe('SendCommand validates the document version and parameters', () => {
  const send = (extra: Record<string, unknown>) => {
    const { rc, i, agents } = setUp();
    try {
      return refusal(() => rc.sendCommand({ DocumentName: 'Doc', InstanceIds: [i.id], TimeoutSeconds: 60, ...extra }));
    } finally {
      agents.dispose();
    }
  };
  test.each([
    [{}, 'accepted'],
    [{ DocumentVersion: '$LATEST' }, 'accepted'],
    [{ DocumentVersion: '$DEFAULT' }, 'accepted'],
    [{ DocumentVersion: '1' }, 'accepted'],
    [{ DocumentVersion: '2' }, 'InvalidDocumentVersion'],
    [{ DocumentVersion: 'latest' }, 'InvalidDocumentVersion'],
    [{ Parameters: { executionTimeout: ['600'] } }, 'accepted'],
    [{ Parameters: { executionTimeout: ['999999'] } }, 'InvalidParameters'],
    [{ Parameters: { executionTimeout: ['0'] } }, 'InvalidParameters'],
    [{ Parameters: { commands: ['ls'] } }, 'InvalidParameters'],
    [{ DocumentName: 'Other' }, 'InvalidDocument'],
  ])('%j → %s', (extra, expected) => {
    expect(send(extra)).toBe(expected);
  });
});

describe('the agent runs the lines with /bin/sh', () => {
  const run = (lines: string[], programs: Record<string, ProgramBehaviour> = {}) => {
    const { agents, i } = setUp(programs);
    try {
      const r = agents.run(i, lines, 1);
      return { status: statusOfExit(r.exitCode), code: r.exitCode, ran: r.ran.join(' '), hung: r.hung };
    } finally {
      agents.dispose();
    }
  };

  test('without set -e only the last line decides', () => {
    expect(run(['false', 'echo ok'])).toMatchObject({ status: 'Success', code: 0 });
    expect(run(['true', 'false'])).toMatchObject({ status: 'Failed', code: 1 });
  });

  test('with set -e the first failing line ends the script', () => {
    expect(run(['set -e', 'a', 'b', 'c'], { a: {}, b: { exitCode: 4 }, c: {} })).toEqual({ status: 'Failed', code: 4, ran: 'a b', hung: false });
    expect(run(['set -e', 'if false; then :; fi', 'echo ok'])).toMatchObject({ status: 'Success' });
  });

  test('a shebang picks the interpreter', () => {
    // `[[` is bash syntax: dash, the machine's sh, would fail on it.
    expect(run(['#!/bin/bash', '[[ 1 == 1 ]]'])).toMatchObject({ status: 'Success' });
  });

  test('exit codes the agent reads specially', () => {
    expect(run(['exit 168'])).toMatchObject({ status: 'Success' });
    expect(run(['exit 169'])).toMatchObject({ status: 'Failed' });
    expect(run(['exit 137'])).toMatchObject({ status: 'TimedOut' });
    expect(() => run(['exit 194'])).toThrow(/reboot/);
  });

  test('a missing program exits 127, a hanging one marks the run', () => {
    expect(run(['nothere'], { nothere: { missing: true } })).toMatchObject({ status: 'Failed', code: 127 });
    expect(run(['stuck', 'echo after'], { stuck: { hang: true } })).toMatchObject({ hung: true, ran: 'stuck' });
  });
});
