/**
 * A model of the SSM agent running the hook's `aws:runPowerShellScript` step
 * on a Windows instance. There is no PowerShell on the machines that run the
 * scenarios, so this is not PowerShell: it interprets exactly the script the
 * construct generates (src/document.ts, `powerShellScript`) and nothing else,
 * and refuses, failing the scenario, any line it cannot interpret.
 *
 * What it models (aws/amazon-ssm-agent):
 * - agent/plugins/runscript/runpowershellscript.go: the lines joined into
 *   `_script.ps1` (written with a byte-order mark), run by
 *   `powershell.exe -InputFormat None -Noninteractive -NoProfile
 *   -ExecutionPolicy unrestricted -f _script.ps1`
 *   (agent/appconfig/constants_windows.go), whose exit code is the step's result;
 * - agent/plugins/pluginutil/pluginutil_windows.go (GetStatus): 0 Success,
 *   3010 success and reboot, 137 TimedOut (or Cancelled), anything else Failed.
 *
 * What it interprets, as Windows PowerShell 5.1 documents it:
 * - the prologue: `$ErrorActionPreference = 'Stop'`, the exit-code function
 *   and the trap, each exactly as generated;
 * - per command: the line-number line, the command, and the `$LASTEXITCODE`
 *   check, each exactly as generated;
 * - a command that calls one program with plain arguments (words, or
 *   'single-quoted' strings): a native command, run from the stand-in's stub
 *   programs; its exit code becomes `$LASTEXITCODE`. A program that does not
 *   exist is `CommandNotFoundException`, a terminating error: the trap writes
 *   the line and exits 1.
 */
import * as fs from 'node:fs';

/** What one stub program did. */
export interface ProgramRun {
  /** The program does not exist on the instance. */
  readonly missing: boolean;
  /** It never returned. */
  readonly hung: boolean;
  readonly exitCode: number;
  readonly stdout: string;
}

/** What the script did: powershell.exe's exit code, and its output. */
export interface PowerShellRun {
  readonly exitCode: number;
  readonly hung: boolean;
  readonly stdout: string;
  readonly stderr: string;
}

const BYTE_ORDER_MARK = '\uFEFF';

/** The prologue the model knows, line by line, as src/document.ts generates it. */
export const KNOWN_PROLOGUE: readonly string[] = [
  '$ErrorActionPreference = \'Stop\'',
  'function Get-LifecycleCommandExitCode([int]$Line, [int]$Code) { '
  + '[Console]::Error.WriteLine("Line $Line of the hook\'s commands exited with code $Code."); '
  + 'if ($Code -eq 3010 -or (($Code -band 0xFF) -in 0, 168, 194)) { return 1 }; return $Code }',
  'trap { [Console]::Error.WriteLine("Line $LifecycleCommandLine of the hook\'s commands failed: $_"); exit 1 }',
];

const lineNumberLine = (n: number) => `$LifecycleCommandLine = ${n}; $global:LASTEXITCODE = 0`;
const checkLine = (n: number) => `if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode ${n} $global:LASTEXITCODE) }`;

/**
 * Windows PowerShell 5.1 resolves aliases, functions and cmdlets before
 * programs on the PATH: a stub of one of these names would not be what runs.
 * Not PowerShell's whole list; the common ones a scenario could reach for.
 */
const BUILT_IN_NAMES = new Set([
  'cat', 'cd', 'chdir', 'clear', 'cls', 'copy', 'cp', 'curl', 'del', 'diff', 'dir', 'echo', 'erase', 'exit', 'fc', 'foreach',
  'gc', 'gci', 'gi', 'gps', 'h', 'history', 'kill', 'ls', 'man', 'md', 'mkdir', 'mount', 'move', 'mv', 'popd', 'ps', 'pushd',
  'pwd', 'r', 'rd', 'ren', 'rm', 'rmdir', 'sc', 'select', 'set', 'sleep', 'sort', 'start', 'tee', 'type', 'wget', 'where', 'write',
  'return', 'throw', 'if', 'for', 'while', 'do', 'switch', 'function', 'filter', 'trap', 'try', 'break', 'continue', 'param',
]);

/** `Verb-Noun`: the shape of a cmdlet's name. */
const CMDLET_NAME = /^[A-Za-z]+-[A-Za-z]+$/;
const APPROVED_VERBS = new Set([
  'add', 'clear', 'close', 'copy', 'enter', 'exit', 'find', 'format', 'get', 'hide', 'join', 'lock', 'move', 'new', 'open',
  'optimize', 'pop', 'push', 'redo', 'remove', 'rename', 'reset', 'resize', 'search', 'select', 'set', 'show', 'skip', 'split',
  'step', 'switch', 'undo', 'unlock', 'watch', 'connect', 'disconnect', 'read', 'receive', 'send', 'write', 'backup', 'checkpoint',
  'compare', 'compress', 'convert', 'convertfrom', 'convertto', 'dismount', 'edit', 'expand', 'export', 'group', 'import',
  'initialize', 'limit', 'merge', 'mount', 'out', 'publish', 'restore', 'save', 'sync', 'unpublish', 'update', 'approve', 'assert',
  'build', 'complete', 'confirm', 'deny', 'deploy', 'disable', 'enable', 'install', 'invoke', 'register', 'request', 'restart',
  'resume', 'start', 'stop', 'submit', 'suspend', 'uninstall', 'unregister', 'wait', 'debug', 'measure', 'ping', 'repair',
  'resolve', 'test', 'trace', 'block', 'grant', 'protect', 'revoke', 'unblock', 'unprotect', 'use',
]);

/** A command the model runs: one program and its arguments. */
interface NativeCall {
  readonly program: string;
  readonly args: string[];
}

/** Reads `_script.ps1` as the agent wrote it and checks every line is one the model interprets. */
export function readGeneratedScript(file: string): NativeCall[] {
  let text = fs.readFileSync(file, 'utf8');
  if (!text.startsWith(BYTE_ORDER_MARK)) throw new Error(`${file} lacks the byte-order mark the agent writes`);
  text = text.slice(BYTE_ORDER_MARK.length);
  const lines = text.endsWith('\n') ? text.slice(0, -1).split('\n') : text.split('\n');
  KNOWN_PROLOGUE.forEach((expected, i) => {
    if (lines[i] !== expected) refuse(i + 1, lines[i], `the model knows only the generated prologue here: ${expected}`);
  });
  const body = lines.slice(KNOWN_PROLOGUE.length);
  if (body.length % 3 !== 0) refuse(lines.length, lines[lines.length - 1], 'each command takes three lines (number, command, check)');
  const calls: NativeCall[] = [];
  for (let unit = 0; unit < body.length / 3; unit++) {
    const n = unit + 1;
    const at = KNOWN_PROLOGUE.length + unit * 3;
    if (body[unit * 3] !== lineNumberLine(n)) refuse(at + 1, body[unit * 3], `expected ${lineNumberLine(n)}`);
    calls.push(nativeCall(at + 2, body[unit * 3 + 1]));
    if (body[unit * 3 + 2] !== checkLine(n)) refuse(at + 3, body[unit * 3 + 2], `expected ${checkLine(n)}`);
  }
  return calls;
}

/**
 * Runs the script's commands in order, as the generated wrapper makes
 * Windows PowerShell 5.1 run them, and returns powershell.exe's exit code.
 */
export function runGeneratedScript(calls: readonly NativeCall[], runProgram: (program: string, args: string[]) => ProgramRun): PowerShellRun {
  let stdout = '';
  let stderr = '';
  for (const [index, call] of calls.entries()) {
    const line = index + 1;
    const r = runProgram(call.program, call.args);
    if (r.missing) {
      // CommandNotFoundException is a terminating error: the trap names the line and exits 1.
      stderr += `Line ${line} of the hook's commands failed: The term '${call.program}' is not recognized as the name of a cmdlet, `
        + 'function, script file, or operable program. Check the spelling of the name, or if a path was included, verify that the path is correct and try again.\n';
      return { exitCode: 1, hung: false, stdout, stderr };
    }
    stdout += r.stdout;
    if (r.hung) return { exitCode: -1, hung: true, stdout, stderr };
    const code = r.exitCode;
    if (code !== 0) {
      stderr += `Line ${line} of the hook's commands exited with code ${code}.\n`;
      return { exitCode: exitCodeOfFailedLine(code), hung: false, stdout, stderr };
    }
  }
  return { exitCode: 0, hung: false, stdout, stderr };
}

/** Get-LifecycleCommandExitCode, for the codes a stub program can exit with (0–255 on this machine). */
export function exitCodeOfFailedLine(code: number): number {
  return code === 3010 || [0, 168, 194].includes(code % 256) ? 1 : code;
}

function nativeCall(lineNumber: number, line: string): NativeCall {
  // Plain words and 'single-quoted' strings only: PowerShell gives `$`, `@`, `,`, `(`, `;`, `|`,
  // `"`, backticks and `--%` meanings the model does not interpret.
  const word = /\s*(?:'((?:[^']|'')*)'|([A-Za-z0-9._+\-/=]+))(?=\s|$)/y;
  const text = line.trimEnd();
  const words: string[] = [];
  while (word.lastIndex < text.length) {
    const start = word.lastIndex;
    const m = word.exec(text);
    if (!m) refuse(lineNumber, line, `the model runs only "program argument …" with plain or 'single-quoted' arguments; cannot read from column ${start + 1}`);
    words.push(m[1] !== undefined ? m[1].replace(/''/g, '\'') : m[2]);
  }
  const [program, ...args] = words;
  if (!program || !/^[A-Za-z0-9._+-]+$/.test(program)) refuse(lineNumber, line, 'the command must start with the name of a program');
  if (BUILT_IN_NAMES.has(program.toLowerCase())) refuse(lineNumber, line, `${program} is a PowerShell keyword or alias, not a program; the model runs programs only`);
  if (CMDLET_NAME.test(program) && APPROVED_VERBS.has(program.split('-')[0].toLowerCase())) {
    refuse(lineNumber, line, `${program} has the name of a cmdlet (Verb-Noun), which PowerShell would run instead of a program; the model runs programs only`);
  }
  return { program, args };
}

function refuse(lineNumber: number, line: string | undefined, why: string): never {
  throw new Error(`the stand-in's model of PowerShell cannot interpret line ${lineNumber} of _script.ps1 (${JSON.stringify(line)}): ${why}. `
    + 'It interprets only the script LifecycleCommandHook generates around commands that each call one program; see test/standin/FIDELITY.md.');
}
