/**
 * The SSM agent on each instance: when it registers (and reconnects after a
 * stop), when it picks a command up, and how it runs the document's
 * `aws:runShellScript` step and turns the script's exit status into the
 * invocation's status.
 *
 * It runs the synthesized document's real `runCommand` lines, as the agent
 * does, with this machine's `/bin/sh`: the lines joined with "\n" (and a final
 * "\n") into `_script.sh`, mode 0700, executed as `sh -c <script path>` (a
 * first line `#!...` therefore picks its own interpreter). The programs the
 * lines call are stub executables first on the PATH, written from the
 * scenario's `programs`. Only the duration is virtual.
 *
 * Sources (aws/amazon-ssm-agent):
 * - agent/plugins/runscript/runshellscript.go: script name `_script.sh`, command `sh`, arguments `-c`;
 * - agent/plugins/runscript/runscript.go (runCommands): script file, execution timeout, exit code → status;
 * - agent/plugins/pluginutil/pluginutil.go: CreateScriptFile (strings.Join(runCommand, "\n") + "\n",
 *   mode 0700, appconfig.ReadWriteExecuteAccess), ValidateExecutionTimeout (5–172,800 s, else 3,600);
 * - agent/plugins/pluginutil/pluginutil_unix.go (GetStatus): 0 Success, 194 success and reboot,
 *   137 TimedOut (or Cancelled when cancelled), anything else Failed;
 * - agent/appconfig/constants_unix.go: RebootExitCode 194, CommandStoppedPreemptivelyExitCode 137
 *   (3010 is the Windows reboot code, constants_windows.go);
 * - agent/contracts/model.go, agent/framework/runpluginutil/runpluginutil.go: 168 marks the step
 *   succeeded, 169 failed (and skip later steps);
 * - agent/executers/executers.go (prepareEnvironment): AWS_SSM_INSTANCE_ID, AWS_SSM_REGION_NAME.
 * - agent/framework/docparser/docparser.go: a parameter the command does not give takes the
 *   document's default; agent/framework/docparser/parameters/parameters.go (ReplaceParameter):
 *   each `{{ name }}` in the step's inputs becomes the value, as text;
 * - SSM User Guide, "Data elements and parameters" and "Troubleshooting parameter handling
 *   issues": a parameter with `"interpolationType": "ENV_VAR"` is given to the script as the
 *   environment variable `SSM_<name>` by agents 3.3.2746.0 and later; an older agent knows no
 *   `interpolationType` (contracts.Parameter has no such field) and sets no variable.
 * - Registration and pickup times are assumptions; AWS documents neither.
 *
 * An `aws:runPowerShellScript` step runs on a modelled Windows instance: see
 * powershell.ts, which interprets the generated script instead of running
 * PowerShell, calling the same stub programs.
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { VirtualClock } from './clock';
import type { AgentStatus, Instance } from './model';
import { ApiError, INSTANCE_ID, asArray, date } from './model';
import type { ProgramBehaviour } from './options';
import { readGeneratedScript, runGeneratedScript } from './powershell';
import type { Rng } from './rng';

/** The version of the instances' agents unless a scenario says otherwise (release 3.3.3572.0, 2025-12-10). */
export const DEFAULT_AGENT_VERSION = '3.3.3572.0';

/** The first agent version that gives `ENV_VAR` parameters to the script (SSM User Guide, "Troubleshooting parameter handling issues"). */
export const ENV_VAR_AGENT_VERSION = '3.3.2746.0';

/** A parameter as the Command document declares it. */
export interface DocumentParameter {
  readonly default?: string;
  readonly allowedPattern?: string;
  readonly interpolationType?: string;
}

/** The step as the agent runs it: its lines after `{{ name }}` substitution, and the `SSM_<name>` variables. */
export interface PreparedStep {
  readonly runCommand: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
}

/** Whether an agent of this version gives `ENV_VAR` parameters to the script. */
export function agentSupportsEnvVar(version: string): boolean {
  const have = version.split('.').map(Number);
  const need = ENV_VAR_AGENT_VERSION.split('.').map(Number);
  for (let i = 0; i < need.length; i++) {
    if ((have[i] ?? 0) !== need[i]) return (have[i] ?? 0) > need[i];
  }
  return true;
}

/**
 * What the agent of this version makes of the step's lines and the command's
 * parameters: a value the command does not give is the document's default;
 * an `ENV_VAR` parameter becomes `SSM_<name>` (3.3.2746.0 and later); any
 * other `{{ name }}` in the lines is replaced by its value as text, as an
 * older agent does for every parameter. What a newer agent does with
 * `{{ name }}` of an `ENV_VAR` parameter is not modelled: a scenario that
 * needs it fails.
 */
export function prepareStep(
  version: string,
  runCommand: readonly string[],
  declared: Readonly<Record<string, DocumentParameter>>,
  given: Readonly<Record<string, readonly string[]>>,
): PreparedStep {
  const envVar = agentSupportsEnvVar(version);
  const values = new Map(Object.entries(declared).map(([name, spec]) => [name, given[name]?.[0] ?? spec.default ?? '']));
  const environment: Record<string, string> = {};
  const substituted = new Map<string, string>();
  for (const [name, value] of values) {
    if (envVar && declared[name].interpolationType === 'ENV_VAR') environment[`SSM_${name}`] = value;
    else substituted.set(name, value);
  }
  const lines = runCommand.map((line) => line.replace(/\{\{\s*([a-zA-Z0-9]+)\s*\}\}/g, (whole, name: string) => {
    if (substituted.has(name)) return substituted.get(name)!;
    if (environment[`SSM_${name}`] !== undefined) {
      throw new Error(`the step's lines name the ENV_VAR parameter ${name} as ${whole}: what agent ${version} does with that is not modelled`);
    }
    return whole;
  }));
  return { runCommand: lines, environment };
}

/** The default command, a program that exists on every instance. */
export const DEFAULT_PROGRAM = 'lifecycle-step';

/** Exit codes the agent reads specially (Linux). */
export const EXIT = { success: 0, reboot: 194, stoppedPreemptively: 137, stepSucceeded: 168, stepFailed: 169 } as const;

/** The Windows agent's reboot code (agent/appconfig/constants_windows.go). */
export const WINDOWS_REBOOT_EXIT = 3010;

export type ScriptStatus = 'Success' | 'Failed' | 'TimedOut';

/** The document step's plugin, which decides the shell and the platform it runs on. */
export type StepAction = 'aws:runShellScript' | 'aws:runPowerShellScript';

/** The platform a step's plugin runs on in the stand-in: PowerShell documents go to Windows instances. */
export type Platform = 'Linux' | 'Windows';

export function platformOf(action: StepAction): Platform {
  return action === 'aws:runPowerShellScript' ? 'Windows' : 'Linux';
}

/** What one run of the script did. */
export interface ScriptResult {
  readonly platform: Platform;
  readonly exitCode: number;
  /** A program hung: the script never ends by itself. */
  readonly hung: boolean;
  /** The programs called, in order. */
  readonly ran: readonly string[];
  readonly stdout: string;
  readonly stderr: string;
  /** A status that is no script's exit status (a step that failed before any script ran, documents.ts). */
  readonly status?: ScriptStatus;
}

export interface AgentListener {
  /** The agent connected (registered, or back after a loss): commands waiting for it can start. */
  online(instance: Instance): void;
}

/**
 * The invocation status the agent reports for a script's exit status (GetStatus
 * and the 168/169 step codes). 194 asks the agent to reboot the instance and
 * resume, which the stand-in does not model: a scenario that needs it fails
 * with this message rather than pass on a guess.
 */
export function statusOfExit(exitCode: number, platform: Platform = 'Linux'): ScriptStatus {
  if (platform === 'Windows') {
    if (exitCode === WINDOWS_REBOOT_EXIT) {
      throw new Error('the script exited 3010, which asks the SSM agent to reboot the Windows instance and resume the document: the stand-in does not model reboots');
    }
    // 194 is no reboot code on Windows (GetStatus in pluginutil_windows.go): a failure like any other.
    if (exitCode === EXIT.reboot) return 'Failed';
  }
  switch (exitCode) {
    case EXIT.success:
    case EXIT.stepSucceeded:
      return 'Success';
    case EXIT.stoppedPreemptively:
      return 'TimedOut';
    case EXIT.reboot:
      throw new Error('the script exited 194, which asks the SSM agent to reboot the instance and resume the document: the stand-in does not model reboots');
    default:
      return 'Failed';
  }
}

export class Agents {
  private root?: string;
  private readonly scripts = new Map<string, string>();
  private readonly bins = new Map<string, string>();
  private readonly results = new Map<string, ScriptResult>();

  constructor(
    private readonly clock: VirtualClock,
    private readonly rng: Rng,
    private readonly region: string,
    private readonly programs: Readonly<Record<string, ProgramBehaviour | readonly ProgramBehaviour[]>>,
    private readonly instances: readonly Instance[],
    private readonly listener: AgentListener,
  ) {
    for (const name of Object.keys(programs)) {
      if (!/^[A-Za-z0-9._+-]+$/.test(name)) throw new Error(`programs: "${name}" is not a file name; use letters, digits, . _ + -`);
      const behaviours = programs[name];
      for (const b of (Array.isArray(behaviours) ? behaviours : [behaviours]) as ProgramBehaviour[]) {
        const bad = (b.printsEnvironment ?? []).find((v) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v));
        if (bad !== undefined) throw new Error(`programs.${name}.printsEnvironment: "${bad}" is not an environment variable name`);
      }
    }
  }

  /** The instance boots: its agent registers (or reconnects) after the registration delay. */
  started(instance: Instance): void {
    const delay = instance.agentOptions.registrationDelayMs ?? [15_000, 45_000];
    if (delay === 'never') return;
    this.clock.schedule(this.rng.draw(delay), () => {
      if (instance.ec2Running && instance.agent !== 'Online') this.setStatus(instance, 'Online');
    });
  }

  /** The instance stops or terminates: its agent stops pinging. */
  stopped(instance: Instance): void {
    if (instance.agent === 'Online') instance.agent = 'ConnectionLost';
  }

  setStatus(instance: Instance, status: AgentStatus): void {
    if (status === 'Online' && instance.agent !== 'Online') instance.agentOnlineAtMs = this.clock.elapsed;
    instance.agent = status;
    if (status === 'Online') this.listener.online(instance);
  }

  /** From the send until the agent picks the command up, or undefined for never. */
  pickupDelay(instance: Instance): number | undefined {
    const pickup = instance.agentOptions.pickupMs ?? [200, 1_500];
    return pickup === 'never' ? undefined : this.rng.draw(pickup);
  }

  /**
   * Runs the step's lines on the instance, for the n-th command sent to it,
   * with the parameters' variables. `downloads`: files an earlier
   * `aws:downloadContent` step of the command saved (name → text), in the
   * command's downloads directory, where the step starts (see documents.ts).
   */
  run(
    instance: Instance,
    runCommand: readonly string[],
    run: number,
    action: StepAction = 'aws:runShellScript',
    environment: Readonly<Record<string, string>> = {},
    downloads: Readonly<Record<string, string>> = {},
  ): ScriptResult {
    const platform = platformOf(action);
    const script = this.scriptFile(runCommand, platform);
    const profile = this.profile(instance.index, run);
    const key = `${script}\n${profile}\n${instance.id}\n${JSON.stringify(environment)}\n${JSON.stringify(downloads)}`;
    // The script sees only the stubs, its environment and its downloads, so equal inputs give equal runs.
    const cached = this.results.get(key);
    if (cached) return cached;
    const bin = this.binDir(profile);
    const marks = fs.mkdtempSync(path.join(this.rootDir(), 'run-'));
    const trace = path.join(marks, 'trace');
    const hung = path.join(marks, 'hung');
    // The downloads directory: the agent saves each file with mode 0700 (downloadcontent.go, SetFilePermissions).
    const cwd = path.join(marks, 'downloads');
    fs.mkdirSync(cwd);
    for (const [name, text] of Object.entries(downloads)) {
      if (name.includes('/') || name === '.' || name === '..') throw new Error(`the stand-in saves downloads under a plain file name, not ${name}`);
      fs.writeFileSync(path.join(cwd, name), text, { mode: 0o700 });
    }
    const env = {
      PATH: `${bin}:/usr/local/bin:/usr/bin:/bin`,
      HOME: marks,
      ...environment,
      AWS_SSM_INSTANCE_ID: instance.id,
      AWS_SSM_REGION_NAME: this.region,
      STANDIN_TRACE: trace,
      STANDIN_HUNG: hung,
    };
    const ran = () => (fs.existsSync(trace) ? fs.readFileSync(trace, 'utf8').split('\n').filter(Boolean) : []);
    if (platform === 'Windows') {
      const calls = readGeneratedScript(script);
      const ps = runGeneratedScript(calls, (program, args) => {
        // Only the stubs are programs on the modelled instance: nothing of this machine's PATH.
        const file = path.join(bin, program);
        if (!fs.existsSync(file)) return { missing: true, hung: false, exitCode: 0, stdout: '' };
        const r = spawnSync(file, args, { cwd, encoding: 'utf8', timeout: 30_000, env });
        if (r.error) throw new Error(`running the stub program ${program} failed: ${r.error.message}`);
        return { missing: false, hung: fs.existsSync(hung), exitCode: r.status ?? -1, stdout: r.stdout };
      });
      const result: ScriptResult = { platform, ...ps, ran: ran() };
      this.results.set(key, result);
      return result;
    }
    const r = spawnSync('/bin/sh', ['-c', script], { cwd, encoding: 'utf8', timeout: 30_000, env });
    if (r.error) throw new Error(`running the document's script failed: ${r.error.message}`);
    const signal = r.signal ? os.constants.signals[r.signal] : undefined;
    const result: ScriptResult = {
      platform,
      exitCode: r.status ?? 128 + (signal ?? 0),
      hung: fs.existsSync(hung),
      ran: ran(),
      stdout: r.stdout,
      stderr: r.stderr,
    };
    this.results.set(key, result);
    return result;
  }

  /** Removes the scripts and stubs. */
  dispose(): void {
    if (this.root) fs.rmSync(this.root, { recursive: true, force: true });
  }

  describeInstanceInformation(p: Record<string, unknown>): Record<string, unknown> {
    let registered = this.instances.filter((i) => i.agent !== 'unregistered');
    for (const f of asArray(p.Filters)) {
      const key = String(f.Key);
      const values = asArray(f.Values).map(String);
      if (key === 'InstanceIds') {
        registered = registered.filter((i) => values.includes(i.id));
      } else if (key === 'PingStatus') {
        registered = registered.filter((i) => values.includes(i.agent));
      } else if (!['ResourceType', 'PlatformTypes', 'AgentVersion', 'AssociationStatus', 'tag-key'].includes(key) && !key.startsWith('tag:')) {
        throw new ApiError('InvalidFilterKey', `The specified filter key ${key} is not valid.`);
      }
    }
    for (const f of asArray(p.InstanceInformationFilterList)) {
      const key = String(f.key);
      const values = asArray(f.valueSet).map(String);
      if (key === 'InstanceIds') {
        const bad = values.find((v) => !INSTANCE_ID.test(v));
        if (bad) throw new ApiError('InvalidInstanceId', `Invalid instance id ${bad}`);
        registered = registered.filter((i) => values.includes(i.id));
      } else if (key === 'PingStatus') {
        registered = registered.filter((i) => values.includes(i.agent));
      }
    }
    const max = Number(p.MaxResults ?? 50);
    if (max < 5 || max > 50) throw new ApiError('ValidationException', '1 validation error detected: Value at \'maxResults\' failed to satisfy constraint: Member must have value between 5 and 50');
    const start = Number(p.NextToken ?? 0);
    return {
      InstanceInformationList: registered.slice(start, start + max).map((i) => ({
        InstanceId: i.id,
        PingStatus: i.agent,
        LastPingDateTime: date(this.clock.now),
        AgentVersion: i.agentOptions.version ?? DEFAULT_AGENT_VERSION,
        IsLatestVersion: false,
        PlatformType: 'Linux',
        PlatformName: 'Amazon Linux',
        PlatformVersion: '2023',
        ResourceType: 'EC2Instance',
        IPAddress: `10.0.${Math.floor(i.index / 250)}.${(i.index % 250) + 4}`,
        ComputerName: `ip-10-0-${Math.floor(i.index / 250)}-${(i.index % 250) + 4}.ec2.internal`,
      })),
      ...(start + max < registered.length ? { NextToken: String(start + max) } : {}),
    };
  }

  private rootDir(): string {
    this.root ??= fs.mkdtempSync(path.join(os.tmpdir(), 'standin-agent-'));
    return this.root;
  }

  /** `_script.sh` (or, with a byte-order mark, `_script.ps1`) for these lines, written as the agent writes it. */
  private scriptFile(runCommand: readonly string[], platform: Platform): string {
    const content = (platform === 'Windows' ? '\uFEFF' : '') + runCommand.join('\n') + '\n';
    let file = this.scripts.get(content);
    if (!file) {
      const dir = path.join(this.rootDir(), `script-${this.scripts.size}`);
      fs.mkdirSync(dir);
      file = path.join(dir, platform === 'Windows' ? '_script.ps1' : '_script.sh');
      fs.writeFileSync(file, content, { mode: 0o700 });
      this.scripts.set(content, file);
    }
    return file;
  }

  /** What every program does on this instance for this run, as a stable string. */
  private profile(instance: number, run: number): string {
    const names = [...new Set([DEFAULT_PROGRAM, ...Object.keys(this.programs)])].sort();
    return JSON.stringify(names.map((name) => {
      const given = this.programs[name];
      const list: readonly ProgramBehaviour[] = given === undefined ? [] : Array.isArray(given) ? given : [given as ProgramBehaviour];
      const b = list.find((x) => (x.instances === undefined || x.instances.includes(instance)) && (x.runs === undefined || x.runs.includes(run)));
      return [name, b?.exitCode ?? 0, b?.hang ?? false, b?.stdout ?? '', b?.missing ?? false, b?.printsEnvironment ?? []];
    }));
  }

  /** A directory of stub programs behaving as the profile says. */
  private binDir(profile: string): string {
    let dir = this.bins.get(profile);
    if (dir) return dir;
    dir = path.join(this.rootDir(), `bin-${this.bins.size}`);
    fs.mkdirSync(dir);
    const programs = JSON.parse(profile) as Array<[string, number, boolean, string, boolean, string[]]>;
    for (const [name, exitCode, hang, stdout, missing, printed] of programs) {
      if (missing) continue;
      const lines = ['#!/bin/sh', `printf '%s\\n' ${quote(name)} >> "$STANDIN_TRACE"`];
      if (stdout) lines.push(`printf '%s\\n' ${quote(stdout)}`);
      for (const variable of printed) lines.push(`printf '%s=%s\\n' ${quote(variable)} "$${variable}"`);
      // A hang never returns; the mark tells the agent so, and the stub then dies so the real run ends.
      if (hang) lines.push(`printf '%s\\n' ${quote(name)} > "$STANDIN_HUNG"`, 'kill -KILL $$');
      lines.push(`exit ${exitCode}`);
      fs.writeFileSync(path.join(dir, name), lines.join('\n') + '\n', { mode: 0o755 });
    }
    this.bins.set(profile, dir);
    return dir;
  }
}

function quote(s: string): string {
  return `'${s.replace(/'/g, '\'\\\'\'')}'`;
}
