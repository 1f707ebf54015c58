import { Agents, statusOfExit } from './agent';
import { VirtualClock } from './clock';
import type { Instance } from './model';
import type { ProgramBehaviour } from './options';
import { exitCodeOfFailedLine, KNOWN_PROLOGUE } from './powershell';
import { Rng } from './rng';
import { powerShellScript } from '../../src/document';

function instance(): Instance {
  return {
    index: 0,
    id: 'i-0aaaaaaaaaaaaaaa0',
    group: 'web-fleet',
    state: 'InService',
    ec2Running: true,
    exists: true,
    agent: 'Online',
    actions: [],
    completions: [],
    commandIds: [],
    agentOptions: {},
    commandOptions: {},
  };
}

/** Runs the construct's PowerShell script for these commands on a modelled Windows instance. */
function run(commands: string[], programs: Record<string, ProgramBehaviour | ProgramBehaviour[]> = {}) {
  const i = instance();
  const agents = new Agents(new VirtualClock(), new Rng(1), 'eu-west-1', programs, [i], { online: () => undefined });
  try {
    const r = agents.run(i, powerShellScript(commands), 1, 'aws:runPowerShellScript');
    return { status: r.hung ? 'hung' : statusOfExit(r.exitCode, r.platform), code: r.exitCode, ran: r.ran.join(' '), stdout: r.stdout, stderr: r.stderr };
  } finally {
    agents.dispose();
  }
}

describe('the model of the generated PowerShell script', () => {
  test('knows exactly the prologue the construct generates (a change there needs the model revisited)', () => {
    expect(powerShellScript([])).toEqual(KNOWN_PROLOGUE);
  });

  test('every line succeeds: Success, every program run with its arguments', () => {
    expect(run(['setup', 'configure --role \'web server\''], { setup: { stdout: 'ready' }, configure: {} }))
      .toEqual({ status: 'Success', code: 0, ran: 'setup configure', stdout: 'ready\n', stderr: '' });
  });

  test('a failing middle line stops the script with its own exit code, naming the line', () => {
    expect(run(['a', 'b', 'c'], { a: {}, b: { exitCode: 4 }, c: {} }))
      .toMatchObject({ status: 'Failed', code: 4, ran: 'a b', stderr: 'Line 2 of the hook\'s commands exited with code 4.\n' });
  });

  test('exit codes the agent would not read as a failure become 1', () => {
    expect(run(['a'], { a: { exitCode: 194 } })).toMatchObject({ status: 'Failed', code: 1 });
    expect(run(['a'], { a: { exitCode: 168 } })).toMatchObject({ status: 'Failed', code: 1 });
    expect(exitCodeOfFailedLine(3010)).toBe(1);
    expect(exitCodeOfFailedLine(256)).toBe(1);
    expect(exitCodeOfFailedLine(137)).toBe(137);
  });

  test('a missing program is a terminating error: the trap names the line and exits 1', () => {
    const r = run(['a', 'nothere', 'c'], { a: {}, nothere: { missing: true }, c: {} });
    expect(r).toMatchObject({ status: 'Failed', code: 1, ran: 'a' });
    expect(r.stderr).toMatch(/^Line 2 of the hook's commands failed: The term 'nothere' is not recognized/);
  });

  test('a hanging program leaves the script running', () => {
    expect(run(['stuck', 'after'], { stuck: { hang: true }, after: {} })).toMatchObject({ status: 'hung', ran: 'stuck' });
  });

  test('the Windows agent reads 137 as TimedOut, 194 as a plain failure, and 3010 as a reboot it cannot model', () => {
    expect(statusOfExit(137, 'Windows')).toBe('TimedOut');
    expect(statusOfExit(194, 'Windows')).toBe('Failed');
    expect(() => statusOfExit(3010, 'Windows')).toThrow(/reboot/);
  });

  test.each([
    ['a cmdlet', 'Restart-Service w3svc'],
    ['a variable', '$env:ROLE = \'web\''],
    ['a pipeline', 'a | b'],
    ['an alias', 'echo hi'],
    ['a double-quoted string', 'a "x"'],
    ['a script block', 'if ($true) { a }'],
    ['two statements', 'a; b'],
  ])('refuses %s, failing clearly instead of guessing', (_what, command) => {
    expect(() => run([command], { a: {}, b: {} })).toThrow(/cannot interpret line 5 of _script\.ps1/);
  });
});
