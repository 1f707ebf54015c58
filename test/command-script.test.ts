// The synthesized document, run the way the SSM agent runs it, by the real
// shells of this machine. The hook comes from the compiled lib/ that the
// package ships. The agent (aws/amazon-ssm-agent,
// agent/plugins/pluginutil/pluginutil.go CreateScriptFile and
// agent/plugins/runscript/runscript.go, runshellscript.go) writes the step's
// runCommand lines joined by "\n", with a final "\n", to `_script.sh` with
// mode 0700 and runs `sh -c <path>`: the file is executed as a program, so a
// first-line shebang picks its interpreter, and a file without one is run by
// the shell itself. The exit status is the command's result.
import { spawnSync } from 'child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import * as os from 'os';
import * as path from 'path';
import { App, Duration, Stack, aws_autoscaling as autoscaling } from 'aws-cdk-lib';
import { assertBuilt } from './built-lib';
import { LifecycleCommandHook } from '../lib';

/** The shells the agent's `sh` is on common AMIs: dash (Debian, Ubuntu) and bash (Amazon Linux, RHEL). */
const SHELLS = ['/bin/sh', 'bash'];
const PYTHON = spawnSync('python3', ['--version']).status === 0;

let workdir: string;
beforeAll(() => {
  assertBuilt();
  workdir = mkdtempSync(path.join(os.tmpdir(), 'lifecycle-command-script-'));
});
afterAll(() => {
  if (workdir) rmSync(workdir, { recursive: true, force: true });
});

/** The document's runCommand for these commands, from a hook of the compiled library. */
function documentLines(commands: string[]): string[] {
  const stack = new Stack(new App(), 'Stack');
  const hook = new LifecycleCommandHook(stack, 'Hook', {
    autoScalingGroup: autoscaling.AutoScalingGroup.fromAutoScalingGroupName(stack, 'Fleet', 'web-fleet'),
    transition: autoscaling.LifecycleTransition.INSTANCE_LAUNCHING,
    commands,
    timeout: Duration.minutes(5),
    configureInstanceRole: false,
  });
  const document = hook.node.findChild('Document') as any;
  return stack.resolve(document.content).mainSteps[0].inputs.runCommand;
}

let scripts = 0;
/** Writes the lines as the agent does and runs them as it does, with the given `sh`. */
function runAsAgent(lines: string[], shell: string) {
  const dir = path.join(workdir, String(scripts++));
  const script = path.join(dir, '_script.sh');
  mkdirSync(dir);
  writeFileSync(script, lines.join('\n') + '\n');
  chmodSync(script, 0o700);
  const result = spawnSync(shell, ['-c', script], { cwd: dir, encoding: 'utf8', timeout: 20_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe.each(SHELLS)('run by %s -c <script>', (shell) => {
  test.each([
    ['the first line fails', ['false', 'echo ok'], 1],
    ['a middle line fails', ['echo start', 'sh -c "exit 7"', 'echo ok'], 7],
    ['a command that does not exist', ['no-such-command-on-this-machine', 'echo ok'], 127],
    ['a failing line after a bash shebang', ['#!/bin/bash', 'echo start', 'false', 'echo ok'], 1],
    ['a failing line after an env bash shebang', ['#!/usr/bin/env bash', 'echo start', 'false', 'echo ok'], 1],
    ['a failing line after a sh shebang', ['#!/bin/sh', 'false', 'echo ok'], 1],
  ])('fails when %s, with that line\'s status, and runs nothing after it', (_name, commands, status) => {
    const run = runAsAgent(documentLines(commands as string[]), shell);
    expect(run.status).toBe(status);
    expect(run.stdout).not.toContain('ok');
  });

  test.each([
    ['every line succeeds', ['true', 'echo ok']],
    ['a false if condition', ['if false; then :; fi', 'echo ok']],
    ['a false while condition', ['while false; do :; done', 'echo ok']],
    ['|| true', ['false || true', 'echo ok']],
    ['a failing command before && (not the last of its list)', ['false && true', 'echo ok']],
    ['a failing non-final pipe stage', ['false | true', 'echo ok']],
    ['a negated command', ['! true', 'echo ok']],
    ['set +e', ['set +e', 'false', 'echo ok']],
  ])('succeeds with %s', (_name, commands) => {
    const run = runAsAgent(documentLines(commands), shell);
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: '' });
    expect(run.stdout).toBe('ok\n');
  });

  test('a failing last line still fails', () => {
    expect(runAsAgent(documentLines(['echo start', 'false']), shell).status).toBe(1);
  });

  test('the braces of {{ name }}, split by an empty quoted string, reach the shell and print as written', () => {
    const run = runAsAgent(documentLines(['echo {\'\'{ name }}', 'echo "{""{ name }}"']), shell);
    expect(run).toEqual({ status: 0, stdout: '{{ name }}\n{{ name }}\n', stderr: '' });
  });

  (PYTHON ? test : test.skip)('a python3 shebang runs the lines as Python, whose exit status decides (needs python3)', () => {
    const ok = runAsAgent(documentLines(['#!/usr/bin/env python3', 'import sys', 'print("python", sys.version_info[0])']), shell);
    expect(ok).toEqual({ status: 0, stdout: 'python 3\n', stderr: '' });
    const failed = runAsAgent(documentLines(['#!/usr/bin/env python3', 'print("ok")', 'raise SystemExit(3)']), shell);
    expect(failed.status).toBe(3);
  });
});
