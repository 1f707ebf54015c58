import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CommandShell } from '../src/command-shell';
import { commandDocumentContent } from '../src/document';
import { Agents, DEFAULT_AGENT_VERSION, DocumentParameter, prepareStep, StepAction } from './standin/agent';
import { VirtualClock } from './standin/clock';
import type { Instance } from './standin/model';
import type { ProgramBehaviour } from './standin/options';
import { Rng } from './standin/rng';
import {
  agentGivesContext,
  CONTEXT_AGENT_VERSION,
  CONTEXT_PARAMETERS,
  contextParameters,
  ContextHook,
} from '../src/handler/action-context';
import type { LifecycleAction } from '../src/handler/events';

/** A file that any value run as code would create. */
const CANARY = path.join(os.tmpdir(), `lifecycle-context-canary-${process.pid}`);

/** Text a shell or PowerShell would run if it ever became part of the script. */
function hostile(tag: string): string {
  return `${tag} $(touch ${CANARY}) \`touch ${CANARY}\` ' " ; touch ${CANARY} ;\ntouch ${CANARY}\n$HOME \\ {{ executionTimeout }} %s $env:PATH & | > ${CANARY}`;
}

/** 4,000 characters of metadata: hostile lines, then printable ASCII up to the limit. */
function longMetadata(): string {
  const head = `${hostile('metadata')}\n\t{"drain": "yes"}\r\n`;
  let text = head;
  for (let c = 0x20; text.length < 4000; c = c === 0x7e ? 0x20 : c + 1) text += String.fromCharCode(c);
  return text;
}

const METADATA = longMetadata();
/** A value that parses as shell text on its own (the others' lone quotes would stop a shell at parsing): were it ever text, it would run. */
const RUNS_AS_TEXT = `hook$(touch ${CANARY})\`touch ${CANARY}\`;touch ${CANARY}`;
const HOOK: ContextHook = { groupName: hostile('group'), hookName: RUNS_AS_TEXT, transition: 'terminate' };
const ACTION: LifecycleAction = {
  kind: 'lifecycle-action',
  instanceId: 'i-0123456789abcdef0',
  token: '11111111-2222-3333-4444-555555555555',
  transition: 'autoscaling:EC2_INSTANCE_TERMINATING',
  origin: hostile('origin'),
  destination: hostile('destination'),
};

/** What each variable must read, byte for byte. */
const EXPECTED: Record<string, string> = {
  SSM_EC2InstanceId: ACTION.instanceId,
  SSM_AutoScalingGroupName: HOOK.groupName,
  SSM_LifecycleHookName: HOOK.hookName,
  SSM_LifecycleTransition: ACTION.transition,
  SSM_Origin: ACTION.origin!,
  SSM_Destination: ACTION.destination!,
  SSM_NotificationMetadata: METADATA,
};
const VARIABLES = Object.keys(EXPECTED);

function instance(version: string): Instance {
  return {
    index: 0,
    group: 'web-fleet',
    id: ACTION.instanceId,
    state: 'Terminating:Wait',
    ec2Running: true,
    exists: true,
    agent: 'Online',
    actions: [],
    completions: [],
    commandIds: [],
    agentOptions: { version },
    commandOptions: {},
  };
}

interface Run {
  readonly stdout: string;
  readonly exitCode: number;
  readonly ran: readonly string[];
  readonly script: readonly string[];
}

/**
 * Sends the construct's document with the handler's parameters to an agent of
 * this version: the stand-in's agent prepares the step as the SSM agent does
 * and runs it with this machine's /bin/sh (or the PowerShell model).
 */
function send(
  commands: string[],
  options: {
    shell?: CommandShell;
    version?: string;
    programs?: Record<string, ProgramBehaviour>;
    document?: ReturnType<typeof commandDocumentContent>;
  } = {},
): Run {
  const document = options.document ?? commandDocumentContent({
    shell: options.shell ?? CommandShell.SH, commands, timeoutSeconds: 300, isLaunch: false, notificationMetadata: METADATA,
  });
  const version = options.version ?? DEFAULT_AGENT_VERSION;
  const step = document.mainSteps[0];
  const given = { executionTimeout: ['300'], ...contextParameters(HOOK, ACTION) };
  const prepared = prepareStep(version, step.inputs.runCommand, document.parameters as Record<string, DocumentParameter>, given);
  const i = instance(version);
  const agents = new Agents(new VirtualClock(), new Rng(1), 'eu-west-1', options.programs ?? {}, [i], { online: () => undefined });
  try {
    const r = agents.run(i, prepared.runCommand, 1, step.action as StepAction, prepared.environment);
    return { stdout: r.stdout, exitCode: r.exitCode, ran: r.ran, script: prepared.runCommand };
  } finally {
    agents.dispose();
  }
}

/** Lines that print each variable, NUL-terminated, without letting the shell read the value. */
const PRINT_EACH = VARIABLES.map((v) => `printf '%s\\0' "$${v}"`);

function printed(stdout: string): Record<string, string> {
  const values = stdout.split('\0').slice(0, VARIABLES.length);
  return Object.fromEntries(VARIABLES.map((v, n) => [v, values[n]]));
}

beforeEach(() => fs.rmSync(CANARY, { force: true }));
afterAll(() => fs.rmSync(CANARY, { force: true }));

describe('the action\'s context reaches the commands as environment variables, never as script text', () => {
  test('the metadata is 4,000 characters, and every value holds what a shell or PowerShell would run', () => {
    expect(METADATA).toHaveLength(4000);
    for (const value of [METADATA, HOOK.groupName, ACTION.origin!, ACTION.destination!]) {
      expect(value).toContain('$(touch');
      expect(value).toContain('`');
      expect(value).toContain('\n');
      expect(value).toContain(';');
    }
  });

  test('/bin/sh: the commands read each value byte for byte, and nothing of them runs', () => {
    const run = send(PRINT_EACH);
    expect(run.exitCode).toBe(0);
    expect(printed(run.stdout)).toEqual(EXPECTED);
    expect(fs.existsSync(CANARY)).toBe(false);
    expect(run.ran).toEqual([]);
  });

  test('bash (a #!/bin/bash first line): the same', () => {
    const run = send(['#!/bin/bash', ...PRINT_EACH]);
    expect(run.exitCode).toBe(0);
    expect(printed(run.stdout)).toEqual(EXPECTED);
    expect(fs.existsSync(CANARY)).toBe(false);
  });

  test('the script the agent writes holds none of the values', () => {
    const script = send(PRINT_EACH).script.join('\n');
    for (const value of Object.values(EXPECTED).filter((v) => v !== ACTION.instanceId && v !== ACTION.transition)) {
      expect(script).not.toContain(value.slice(0, 20));
    }
    expect(script).not.toMatch(/\{\{/);
  });

  test('PowerShell (the model): the programs the commands call inherit each value byte for byte', () => {
    const run = send(['dump-context'], { shell: CommandShell.POWERSHELL, programs: { 'dump-context': { printsEnvironment: VARIABLES } } });
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toBe(VARIABLES.map((v) => `${v}=${EXPECTED[v]}\n`).join(''));
    expect(fs.existsSync(CANARY)).toBe(false);
    expect(run.ran).toEqual(['dump-context']);
  });

  test('a document with no metadata gives an empty SSM_NotificationMetadata, and an action without a stage empty SSM_Origin and SSM_Destination', () => {
    const document = commandDocumentContent({ shell: CommandShell.SH, commands: ['true'], timeoutSeconds: 60, isLaunch: true });
    const step = document.mainSteps[0];
    const action: LifecycleAction = { ...ACTION, origin: undefined, destination: undefined, transition: '' };
    const launch: ContextHook = { groupName: 'web', hookName: 'bootstrap', transition: 'launch' };
    const prepared = prepareStep(DEFAULT_AGENT_VERSION, step.inputs.runCommand, document.parameters as Record<string, DocumentParameter>,
      { executionTimeout: ['60'], ...contextParameters(launch, action) });
    expect(prepared.environment).toEqual({
      SSM_EC2InstanceId: ACTION.instanceId,
      SSM_AutoScalingGroupName: 'web',
      SSM_LifecycleHookName: 'bootstrap',
      SSM_LifecycleTransition: 'autoscaling:EC2_INSTANCE_LAUNCHING',
      SSM_Origin: '',
      SSM_Destination: '',
      SSM_NotificationMetadata: '',
    });
  });
});

describe('an agent older than 3.3.2746.0', () => {
  const old = '3.3.1142.0';

  test('gives no variables, and since the document names no parameter as {{ name }}, nothing of a value becomes the script', () => {
    const run = send(PRINT_EACH, { version: old });
    expect(run.exitCode).toBe(0);
    expect(printed(run.stdout)).toEqual(Object.fromEntries(VARIABLES.map((v) => [v, ''])));
    expect(fs.existsSync(CANARY)).toBe(false);
    expect(run.script).toEqual(commandDocumentContent({
      shell: CommandShell.SH, commands: PRINT_EACH, timeoutSeconds: 300, isLaunch: false, notificationMetadata: METADATA,
    }).mainSteps[0].inputs.runCommand);
  });

  test('would run a value that a document named as {{ name }}: the injection the construct\'s document avoids', () => {
    const document = commandDocumentContent({ shell: CommandShell.SH, commands: ['true'], timeoutSeconds: 300, isLaunch: false, notificationMetadata: METADATA });
    const naming = { ...document, mainSteps: [{ ...document.mainSteps[0], inputs: { ...document.mainSteps[0].inputs, runCommand: ['echo {{ LifecycleHookName }}'] } }] };
    send([], { version: old, document: naming });
    expect(fs.existsSync(CANARY)).toBe(true);
  });
});

describe('the handler\'s view of the agent and of the parameters', () => {
  test('agents from 3.3.2746.0 give the context; older ones do not; an unreadable version is unknown', () => {
    expect(CONTEXT_AGENT_VERSION).toBe('3.3.2746.0');
    expect(agentGivesContext('3.3.2746.0')).toBe(true);
    expect(agentGivesContext('3.3.3572.0')).toBe(true);
    expect(agentGivesContext('3.4.0.0')).toBe(true);
    expect(agentGivesContext('3.3.2745.9')).toBe(false);
    expect(agentGivesContext('3.3.1142.0')).toBe(false);
    expect(agentGivesContext('2.3.1644.0')).toBe(false);
    expect(agentGivesContext(undefined)).toBeUndefined();
    expect(agentGivesContext('latest')).toBeUndefined();
  });

  test('SendCommand gets every context parameter but the metadata, which is the document\'s own default', () => {
    const parameters = contextParameters(HOOK, ACTION);
    expect(Object.keys(parameters).sort()).toEqual(Object.values(CONTEXT_PARAMETERS).filter((n) => n !== 'NotificationMetadata').sort());
    expect(parameters.AutoScalingGroupName).toEqual([HOOK.groupName]);
  });

  test('the names are the agent\'s: letters and digits only', () => {
    for (const name of Object.values(CONTEXT_PARAMETERS)) expect(name).toMatch(/^[a-zA-Z0-9]+$/);
  });
});
