/**
 * The hook's SSM Command document: one step that runs the commands with the
 * chosen shell, their execution timeout and the lifecycle action's context as
 * document parameters, and the script around the commands that makes any
 * failing line fail the command.
 */
import { CommandShell } from './command-shell';
import { CONTEXT_PARAMETERS, ENVIRONMENT_PREFIX } from './handler/action-context';
import { commandScript } from './script';

/** The document's parameter for the commands' execution timeout, in seconds (the others carry the action's context). */
export const EXECUTION_TIMEOUT_PARAMETER = 'executionTimeout';

/** The name of the document's one step; for schema 2.2 it is the invocation's plugin name. */
export const STEP_NAME = 'runCommands';

export interface CommandDocumentOptions {
  readonly shell: CommandShell;
  readonly commands: string[];
  readonly timeoutSeconds: number;
  readonly isLaunch: boolean;
  readonly workingDirectory?: string;
  /** The hook's notification metadata: the default of its context parameter. */
  readonly notificationMetadata?: string;
}

/** What each context parameter holds, as its description says. */
const CONTEXT_DESCRIPTIONS: Record<keyof typeof CONTEXT_PARAMETERS, string> = {
  instanceId: 'The instance\'s id.',
  groupName: 'The Auto Scaling group\'s name.',
  hookName: 'The lifecycle hook\'s name.',
  transition: 'autoscaling:EC2_INSTANCE_LAUNCHING or autoscaling:EC2_INSTANCE_TERMINATING.',
  origin: 'Where the instance comes from (EC2, AutoScalingGroup or WarmPool); empty when the event does not say.',
  destination: 'Where the instance goes (AutoScalingGroup, WarmPool or EC2); empty when the event does not say.',
  notificationMetadata: 'The lifecycle hook\'s notification metadata; empty when it has none.',
};

/**
 * The action's context, as document parameters the agent gives the script
 * as environment variables `SSM_<name>` (`interpolationType: ENV_VAR`). The
 * script never names them as `{{ name }}`, so no value becomes script text.
 * Every one has a default: a command sent without them (by a handler of an
 * earlier version, while a deployment is under way) is still valid. No
 * `allowedPattern`: with no `{{ }}` reference AWS calls it unnecessary, and
 * a value AWS adds later (a new origin) would then fail the send.
 */
export function contextParameterDeclarations(notificationMetadata: string | undefined) {
  const declarations: Record<string, { type: 'String'; default: string; description: string; interpolationType: 'ENV_VAR' }> = {};
  for (const [key, name] of Object.entries(CONTEXT_PARAMETERS) as Array<[keyof typeof CONTEXT_PARAMETERS, string]>) {
    declarations[name] = {
      type: 'String',
      default: key === 'notificationMetadata' ? notificationMetadata ?? '' : '',
      description: `${CONTEXT_DESCRIPTIONS[key]} Given to the commands as the environment variable ${ENVIRONMENT_PREFIX}${name}.`,
      interpolationType: 'ENV_VAR',
    };
  }
  return declarations;
}

/** The content of the hook's Command document (schema 2.2). */
export function commandDocumentContent(options: CommandDocumentOptions) {
  const powerShell = options.shell === CommandShell.POWERSHELL;
  return {
    schemaVersion: '2.2',
    description: `Commands run by a lifecycle hook as instances ${options.isLaunch ? 'launch' : 'terminate'}.`,
    // Declared like AWS-RunShellScript's, so that SSM sets the command's
    // expiry from it rather than from its own one-hour default.
    parameters: {
      [EXECUTION_TIMEOUT_PARAMETER]: {
        type: 'String',
        default: String(options.timeoutSeconds),
        description: 'How long the commands may run, in seconds.',
        // The range AWS-RunShellScript allows: 1 to 172,800 seconds.
        allowedPattern: '([1-9][0-9]{0,4})|(1[0-6][0-9]{4})|(17[0-1][0-9]{3})|(172[0-7][0-9]{2})|(172800)',
      },
      ...contextParameterDeclarations(options.notificationMetadata),
    },
    mainSteps: [{
      action: powerShell ? 'aws:runPowerShellScript' : 'aws:runShellScript',
      name: STEP_NAME,
      inputs: {
        runCommand: powerShell ? powerShellScript(options.commands) : shellScript(options.commands),
        timeoutSeconds: `{{ ${EXECUTION_TIMEOUT_PARAMETER} }}`,
        ...(options.workingDirectory !== undefined ? { workingDirectory: options.workingDirectory } : {}),
      },
    }],
  };
}

/**
 * The `sh` script: the commands under `set -e`, after a first-line shebang
 * (see `commandScript`).
 */
export function shellScript(commands: string[]): string[] {
  return commandScript(commands).runCommand;
}

/**
 * Defined first in the PowerShell script: the exit code for a line whose last
 * native command exited non-zero. The code is kept, except codes the SSM agent
 * would read as something other than a failure: 3010 (reboot, on Windows),
 * and codes whose low byte is 0 (success once `pwsh` on Linux truncates it),
 * 168 (success, skip the remaining steps) or 194 (reboot, on Linux); those
 * become 1. The line and its own code go to stderr.
 */
export const POWERSHELL_EXIT_CODE_FUNCTION = 'function Get-LifecycleCommandExitCode([int]$Line, [int]$Code) { '
  + '[Console]::Error.WriteLine("Line $Line of the hook\'s commands exited with code $Code."); '
  + 'if ($Code -eq 3010 -or (($Code -band 0xFF) -in 0, 168, 194)) { return 1 }; return $Code }';

/**
 * Any error that ends a line (a `throw`, a command not found, and, with
 * `$ErrorActionPreference = 'Stop'`, any cmdlet error) ends the script with
 * exit code 1, naming the line.
 */
export const POWERSHELL_TRAP = 'trap { [Console]::Error.WriteLine("Line $LifecycleCommandLine of the hook\'s commands failed: $_"); exit 1 }';

/**
 * The PowerShell script: each command is one unit, preceded by a line that
 * records its number and clears `$LASTEXITCODE`, and followed by a check of
 * `$LASTEXITCODE`. `$ErrorActionPreference = 'Stop'` makes cmdlet errors
 * terminating, which the trap turns into exit code 1; native commands never
 * raise errors in Windows PowerShell 5.1 (the SSM agent's PowerShell on
 * Windows), so their exit codes are checked after each line. The global
 * `$LASTEXITCODE` is the one PowerShell sets: a command that assigns
 * `$LASTEXITCODE` in the script's scope cannot hide a later failure.
 */
export function powerShellScript(commands: string[]): string[] {
  const lines = [
    '$ErrorActionPreference = \'Stop\'',
    POWERSHELL_EXIT_CODE_FUNCTION,
    POWERSHELL_TRAP,
  ];
  commands.forEach((command, index) => {
    const line = index + 1;
    lines.push(
      `$LifecycleCommandLine = ${line}; $global:LASTEXITCODE = 0`,
      command,
      `if ($global:LASTEXITCODE -ne 0) { exit (Get-LifecycleCommandExitCode ${line} $global:LASTEXITCODE) }`,
    );
  });
  return lines;
}

/**
 * Commands that would not stay one unit once the script puts its checks
 * between them: a statement continued on the next element. Put such a
 * statement in one element, with newlines inside it.
 * @throws at synth time, naming the element.
 */
export function validatePowerShellCommands(commands: string[], isUnresolved: (value: string) => boolean) {
  commands.forEach((command, index) => {
    if (isUnresolved(command)) return;
    const trimmed = command.trim();
    const problem = /`$/.test(trimmed) ? 'ends with a backtick, continuing its statement on the next element'
      : /\|$/.test(trimmed) ? 'ends with a pipe, continuing its pipeline on the next element'
        : /(^|[\s=(,;])@["']$/.test(trimmed) ? 'opens a here-string that the next elements would close'
          : /^(else|elseif|catch|finally)(\s|\{|\(|$)/i.test(trimmed) ? `starts with "${trimmed.split(/[\s{(]/)[0]}", continuing the statement of the element before it`
            : undefined;
    if (problem) {
      throw new Error(`LifecycleCommandHook: commands[${index}] ${problem}; with shell CommandShell.POWERSHELL each element must be complete PowerShell, `
        + 'since the check of its exit code runs after it. Put the whole statement in one element, with newlines inside it.');
    }
  });
}

/** The step of a hook's document that runs an existing Command document. */
export const RUN_DOCUMENT_STEP_NAME = 'runDocument';

/** The step of a hook's document that downloads its S3 script; the step that runs it is `STEP_NAME`. */
export const DOWNLOAD_STEP_NAME = 'downloadScript';

export interface ExistingDocumentOptions {
  /** The document's name or ARN, with `:version` when one is chosen. */
  readonly documentPath: string;
  readonly parameters?: Record<string, string | string[]>;
  readonly timeoutSeconds: number;
  readonly isLaunch: boolean;
  /** The hook's notification metadata, the default of its context parameter. */
  readonly notificationMetadata?: string;
}

/**
 * The hook's document for an existing Command document: its own parameters
 * (what SendCommand gives every hook's document), and one `aws:runDocument`
 * step that has the agent fetch the document (GetDocument, with the
 * instance's credentials) and run its steps with the parameters. The
 * invocation's status is the worst of the steps' statuses
 * (agent/plugins/rundocument/rundocument.go, contracts.MergeResultStatus).
 */
export function existingDocumentContent(options: ExistingDocumentOptions) {
  const own = commandDocumentContent({
    shell: CommandShell.SH,
    commands: ['true'],
    timeoutSeconds: options.timeoutSeconds,
    isLaunch: options.isLaunch,
    notificationMetadata: options.notificationMetadata,
  });
  return {
    schemaVersion: own.schemaVersion,
    description: `Runs the Command document ${options.documentPath} for a lifecycle hook as instances ${options.isLaunch ? 'launch' : 'terminate'}.`,
    parameters: own.parameters,
    mainSteps: [{
      action: 'aws:runDocument',
      name: RUN_DOCUMENT_STEP_NAME,
      inputs: {
        documentType: 'SSMDocument',
        documentPath: options.documentPath,
        ...(options.parameters !== undefined ? { documentParameters: options.parameters } : {}),
      },
    }],
  };
}

export interface S3ScriptOptions {
  readonly shell: CommandShell;
  /** The object's path-style HTTPS URL, as `aws:downloadContent` reads it. */
  readonly url: string;
  /** The name the script is saved under in the command's downloads directory. */
  readonly fileName: string;
  readonly timeoutSeconds: number;
  readonly isLaunch: boolean;
  readonly workingDirectory?: string;
  /** The hook's notification metadata, the default of its context parameter. */
  readonly notificationMetadata?: string;
}

/**
 * The hook's document for a script in S3: an `aws:downloadContent` step saves
 * the object, with execute rights, in the command's downloads directory, and
 * the hook's shell step runs it. That step starts in the downloads directory
 * when it names no directory of its own (agent/plugins/runscript/runscript.go,
 * runCommands), so it takes the script's path there, then moves to
 * `workingDirectory`. With `sh`, the last line `exec`s the file, which then
 * picks its interpreter by its shebang (or runs as an `sh` script without
 * one): the script's exit status is the command's. With PowerShell, the
 * script runs with `&` and the hook's checks of its exit code and errors.
 */
export function s3ScriptDocumentContent(options: S3ScriptOptions) {
  const powerShell = options.shell === CommandShell.POWERSHELL;
  const commands = powerShell ? [
    `$LifecycleCommandScript = Join-Path (Get-Location).Path ${powerShellLiteral(options.fileName)}`,
    ...(options.workingDirectory !== undefined ? [`Set-Location -LiteralPath ${powerShellLiteral(options.workingDirectory)}`] : []),
    '& $LifecycleCommandScript',
  ] : [
    `${S3_SCRIPT_VARIABLE}="$PWD"/${shellLiteral(options.fileName)}`,
    ...(options.workingDirectory !== undefined ? [`cd -- ${shellLiteral(options.workingDirectory)}`] : []),
    `exec "$${S3_SCRIPT_VARIABLE}"`,
  ];
  const own = commandDocumentContent({
    shell: options.shell,
    commands,
    timeoutSeconds: options.timeoutSeconds,
    isLaunch: options.isLaunch,
    notificationMetadata: options.notificationMetadata,
  });
  return {
    ...own,
    description: `Runs a script from S3 for a lifecycle hook as instances ${options.isLaunch ? 'launch' : 'terminate'}.`,
    mainSteps: [{
      action: 'aws:downloadContent',
      name: DOWNLOAD_STEP_NAME,
      inputs: {
        sourceType: 'S3',
        sourceInfo: { path: options.url },
        // Relative: under the command's own downloads directory, which only the agent (root) writes.
        destinationPath: options.fileName,
        // A failed download skips the step that would run the script (agent/framework/runpluginutil/runpluginutil.go).
        onFailure: 'exit',
      },
    }, ...own.mainSteps],
  };
}

/** The shell variable that holds the downloaded script's path. */
export const S3_SCRIPT_VARIABLE = 'LIFECYCLE_COMMAND_SCRIPT';

/** Text as one single-quoted `sh` word. */
function shellLiteral(text: string): string {
  return `'${text.replace(/'/g, '\'\\\'\'')}'`;
}

/** Text as a single-quoted PowerShell string (a quote is doubled; so are the typographic quotes PowerShell also reads as quotes). */
function powerShellLiteral(text: string): string {
  return `'${text.replace(/['\u2018\u2019\u201a\u201b]/g, (q) => q + q)}'`;
}
