import { Token } from 'aws-cdk-lib';

/**
 * How the SSM agent runs an `aws:runShellScript` step on Linux
 * (aws/amazon-ssm-agent, `agent/plugins/runscript/runscript.go` and
 * `runshellscript.go`, `agent/plugins/pluginutil/pluginutil.go`
 * `CreateScriptFile`):
 *
 * - it writes the `runCommand` lines, joined by "\n" and ending in "\n", to a
 *   file `_script.sh` with mode 0700;
 * - it runs `sh -c <path of that file>`, so `sh` executes the file as a
 *   program: the kernel honours a `#!` on its first line, and a file without
 *   one is run by `sh` itself (the shell's fallback for ENOEXEC);
 * - the exit status of that process is the command's result (0 `Success`,
 *   anything else `Failed`, 3010 a reboot request; `pluginutil_unix.go`
 *   `GetStatus`).
 *
 * Without `set -e`, a shell exits with the status of its last command, so a
 * failing line followed by one that succeeds would report `Success`.
 */

/** The line that makes the shell stop at the first command that fails. */
export const EXIT_ON_ERROR = 'set -e';

/**
 * Interpreters of the POSIX shell family: each reads `set -e` the POSIX way
 * (exit when a command fails, outside conditions, `&&`/`||` lists but the last,
 * non-final pipe stages and commands negated with `!`).
 */
const POSIX_SHELLS = new Set(['sh', 'bash', 'dash', 'ash', 'ksh', 'ksh93', 'mksh', 'pdksh', 'zsh', 'yash', 'posh']);

/** What the construct does with the commands so that every line counts. */
export interface CommandScript {
  /** The step's `runCommand` lines. */
  readonly runCommand: string[];
  /**
   * The interpreter a first-line shebang names when it is not a POSIX shell
   * (e.g. `python3`): its own exit status decides the result, and no
   * `set -e` was added.
   */
  readonly foreignInterpreter?: string;
}

/**
 * The document's lines: the commands under `set -e`. A shebang stays the
 * first line (the kernel reads it only there); `set -e` follows it when it
 * names a POSIX shell, and is left out when it names another interpreter.
 */
export function commandScript(commands: string[]): CommandScript {
  const [first, ...rest] = commands;
  // A token could resolve to a shebang or not; it is taken as a shell line.
  if (Token.isUnresolved(first) || !first.startsWith('#!')) return { runCommand: [EXIT_ON_ERROR, ...commands] };
  const interpreter = shebangInterpreter(first);
  if (interpreter !== undefined && POSIX_SHELLS.has(interpreter)) return { runCommand: [first, EXIT_ON_ERROR, ...rest] };
  return { runCommand: [...commands], foreignInterpreter: interpreter ?? first };
}

/**
 * The program a shebang line runs, by its base name: `#!/bin/bash -x` is
 * `bash`, `#!/usr/bin/env python3` and `#!/usr/bin/env -S bash -e` name the
 * program `env` starts.
 */
export function shebangInterpreter(line: string): string | undefined {
  const words = line.slice(2).trim().split(/\s+/).filter((w) => w !== '');
  const program = baseName(words[0]);
  if (program !== 'env') return program;
  // env's options (-S, -i, -u NAME...) and NAME=value assignments come before the program.
  for (let i = 1; i < words.length; i++) {
    const word = words[i];
    if (word === '-u' || word === '--unset' || word === '-C' || word === '--chdir') { i++; continue; }
    if (word.startsWith('-') || word.includes('=')) continue;
    return baseName(word);
  }
  return undefined;
}

function baseName(path: string | undefined): string | undefined {
  if (path === undefined) return undefined;
  return path.slice(path.lastIndexOf('/') + 1);
}
