/**
 * Checks of a hook's props at synth time: each error names the prop, the value
 * received and what is allowed. Pure functions, apart from the tokens they let
 * through.
 */
import { Duration, Token } from 'aws-cdk-lib';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { EXECUTION_TIMEOUT_PARAMETER } from '../document';
import { CONTEXT_PARAMETERS, ENVIRONMENT_PREFIX } from '../handler/action-context';
import { describeValue } from '../prop-types';
import {
  COMPLETION_MARGIN_SECONDS, DELIVERY_TIMEOUT_SECONDS, maxCommandSeconds, PASS_PERIOD_SECONDS,
} from '../reconciliation-timing';
import { EXIT_ON_ERROR } from '../script';

/** Shortest command timeout: Auto Scaling's lowest heartbeat timeout. */
const MIN_TIMEOUT_SECONDS = 30;
const DEFAULT_REGISTRATION_TIMEOUT_SECONDS = 180;
const MIN_REGISTRATION_TIMEOUT_SECONDS = 10;
/**
 * The registration wait counts against the hook's heartbeat timeout (7,200 s
 * at most) together with the command's own timeout; 14 minutes leaves the
 * commands almost the whole of it. The function does not wait: each check is
 * a short invocation, and a state machine waits between checks.
 */
const MAX_REGISTRATION_TIMEOUT_SECONDS = 840;
const HOOK_NAME_PATTERN = /^[A-Za-z0-9\-_\/]{1,255}$/;
/** Auto Scaling's limit on NotificationMetadata (API model, AnyPrintableAsciiStringMaxLen4000): 1 to 4,000 characters... */
const MAX_NOTIFICATION_METADATA_LENGTH = 4000;
/** ...each printable ASCII (space to tilde), tab, line feed or carriage return. */
const NOTIFICATION_METADATA_CHARACTER = /^[\t\n\r\x20-\x7e]$/;

export function validateCommands(commands: string[]) {
  // jsii checks the types for the other languages; plain JavaScript reaches here with anything.
  if (!Array.isArray(commands)) {
    throw new Error(`LifecycleCommandHook: commands is ${describeValue(commands)}; give a list of shell lines, e.g. ["systemctl stop app"].`);
  }
  if (Token.isUnresolved(commands)) {
    throw new Error('LifecycleCommandHook: commands is a list token; give a list known at synth time (each line may hold tokens), '
      + `because the construct puts "${EXIT_ON_ERROR}" after a first-line shebang or before the first line.`);
  }
  if (commands.length === 0) {
    throw new Error('LifecycleCommandHook: commands is empty; give at least one shell line, e.g. ["systemctl stop app"].');
  }
  commands.forEach((command: unknown, index) => {
    if (typeof command !== 'string') {
      throw new Error(`LifecycleCommandHook: commands[${index}] is ${describeValue(command)}; every command must be a string, one shell line.`);
    }
  });
  commands.forEach((command, index) => {
    if (!Token.isUnresolved(command) && command.trim() === '') {
      throw new Error(`LifecycleCommandHook: commands[${index}] is blank (${JSON.stringify(command)}); every command must be a non-blank shell line.`);
    }
    if (Token.isUnresolved(command)) return;
    for (const [reference, name] of command.matchAll(DOCUMENT_PARAMETER)) {
      if (name === EXECUTION_TIMEOUT_PARAMETER) continue;
      if (CONTEXT_NAMES.includes(name)) {
        throw new Error(`LifecycleCommandHook: commands[${index}] contains ${JSON.stringify(reference)}, which would put the value of the action's context `
          + `into the script's text, where the shell would run whatever it holds. Read the environment variable instead, quoted: "$${ENVIRONMENT_PREFIX}${name}" `
          + `(PowerShell: $env:${ENVIRONMENT_PREFIX}${name}).`);
      }
      throw new Error(`LifecycleCommandHook: commands[${index}] contains ${JSON.stringify(reference)}, which SSM would replace with the document parameter "${name}", `
        + `and the document declares no such parameter. To give the shell the braces, put an empty quoted string between them: ${escapedReference(reference)} `
        + `(inside double quotes: ${escapedReference(reference, '""')}); the shell prints ${reference}.`);
    }
  });
}

const CONTEXT_NAMES: readonly string[] = Object.values(CONTEXT_PARAMETERS);

/** `{{ name }}` as `{''{ name }}`: SSM no longer sees a parameter, and the shell drops the empty quotes. */
function escapedReference(reference: string, quotes = "''"): string {
  return `{${quotes}${reference.slice(1)}`;
}


/**
 * `{{ name }}` with a name of letters and digits: the SSM agent replaces it with
 * the document parameter of that name. Other braces (Go templates such as
 * `{{.ID}}`, awk, jq) reach the shell as written.
 */
const DOCUMENT_PARAMETER = /\{\{\s*([a-zA-Z0-9]+)\s*\}\}/g;

/** SSM refuses Command documents larger than 64 KB. */
const MAX_DOCUMENT_BYTES = 64 * 1024;

export function validateDocumentSize(content: object) {
  const bytes = Buffer.byteLength(JSON.stringify(content), 'utf8');
  if (bytes > MAX_DOCUMENT_BYTES) {
    throw new Error(`LifecycleCommandHook: commands make an SSM document of ${bytes} bytes; SSM accepts at most ${MAX_DOCUMENT_BYTES}. Move long scripts to a file on the instance (or an S3 object) and call it.`);
  }
}

export function validateHookName(name: string | undefined) {
  if (name === undefined || Token.isUnresolved(name)) return;
  if (!HOOK_NAME_PATTERN.test(name)) {
    throw new Error(`LifecycleCommandHook: lifecycleHookName ${JSON.stringify(name)} is not a valid lifecycle hook name; use 1 to 255 letters, digits, '-', '_' or '/'.`);
  }
}

export function validateOptionalText(prop: string, value: string | undefined) {
  if (value === undefined || Token.isUnresolved(value)) return;
  if (value.trim() === '') {
    throw new Error(`LifecycleCommandHook: ${prop} is blank (${JSON.stringify(value)}); omit it or give a non-blank value.`);
  }
}

export function validateNotificationMetadata(metadata: string | undefined) {
  if (metadata === undefined || Token.isUnresolved(metadata)) return;
  const allowed = `Auto Scaling accepts 1 to ${MAX_NOTIFICATION_METADATA_LENGTH} characters, each printable ASCII (space to "~"), a tab or a line break`;
  if (metadata.length < 1 || metadata.length > MAX_NOTIFICATION_METADATA_LENGTH) {
    throw new Error(`LifecycleCommandHook: notificationMetadata is ${metadata.length} characters long; ${allowed}.`);
  }
  const index = [...metadata].findIndex((c) => !NOTIFICATION_METADATA_CHARACTER.test(c));
  if (index >= 0) {
    const character = [...metadata][index];
    const code = `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}`;
    throw new Error(`LifecycleCommandHook: notificationMetadata has ${JSON.stringify(character)} (${code}) at character ${index}; ${allowed}; `
      + 'encode anything else, e.g. as base64.');
  }
}

export function registrationTimeoutSeconds(timeout: Duration | undefined, isLaunch: boolean): number {
  if (!isLaunch) {
    if (timeout !== undefined) {
      throw new Error('LifecycleCommandHook: registrationTimeout applies to launch hooks only (a terminating instance is already registered with SSM); remove it or use LifecycleTransition.INSTANCE_LAUNCHING.');
    }
    return 0;
  }
  if (timeout === undefined) return DEFAULT_REGISTRATION_TIMEOUT_SECONDS;
  const seconds = timeout.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) {
    throw new Error('LifecycleCommandHook: registrationTimeout must be known at synth time; it sets the hook\'s heartbeat timeout.');
  }
  if (!Number.isInteger(seconds) || seconds < MIN_REGISTRATION_TIMEOUT_SECONDS || seconds > MAX_REGISTRATION_TIMEOUT_SECONDS) {
    throw new Error(`LifecycleCommandHook: registrationTimeout is ${seconds} seconds; it must be a whole number of seconds from ${MIN_REGISTRATION_TIMEOUT_SECONDS} to ${MAX_REGISTRATION_TIMEOUT_SECONDS}.`);
  }
  return seconds;
}

export function commandTimeoutSeconds(timeout: Duration, registrationSeconds: number): number {
  const seconds = timeout.toSeconds({ integral: false });
  if (Token.isUnresolved(seconds)) {
    throw new Error('LifecycleCommandHook: timeout must be known at synth time; it sets the hook\'s heartbeat timeout.');
  }
  const room = registrationSeconds + DELIVERY_TIMEOUT_SECONDS + COMPLETION_MARGIN_SECONDS;
  const max = maxCommandSeconds(room);
  if (!Number.isInteger(seconds) || seconds < MIN_TIMEOUT_SECONDS || seconds > max) {
    throw new Error(
      `LifecycleCommandHook: timeout is ${seconds} seconds; it must be a whole number of seconds from ${MIN_TIMEOUT_SECONDS} to ${max} ` +
      `(Auto Scaling's 172800-second global timeout of a lifecycle action less ${room} seconds for ${registrationSeconds ? 'SSM registration, ' : ''}delivery and completion `
      + `and ${PASS_PERIOD_SECONDS} seconds for the reconciliation pass that completes it if the command's status event is lost).`,
    );
  }
  return seconds;
}

/**
 * SendCommand's and GetDocument's `DocumentARN` (SSM API model, 2014-11-06): a
 * document's name, or the ARN of a document another account shares. The
 * agent's `aws:runDocument` step hands it to GetDocument.
 */
const DOCUMENT_NAME_OR_ARN = /^[a-zA-Z0-9_\-.:/]{3,128}$/;
/** The API model's `DocumentVersion`: `$LATEST`, `$DEFAULT` or a version number. */
const DOCUMENT_VERSION = /^(\$LATEST|\$DEFAULT|[1-9][0-9]*)$/;
/**
 * The names the agent takes as document parameters (paramNameRegex in
 * agent/framework/docparser/parameters/parameters.go); it drops any other
 * with a log line on the instance, and the document then uses its default.
 */
const AGENT_PARAMETER_NAME = /^[a-zA-Z0-9]+$/;
/** S3 object keys: at most 1,024 bytes of UTF-8. */
const MAX_S3_KEY_BYTES = 1024;

/** What a hook runs: its inline commands, an existing Command document, or a script in S3. */
export type HookWork =
  | { readonly kind: 'commands'; readonly commands: string[] }
  | { readonly kind: 'document'; readonly documentPath: string; readonly parameters?: Record<string, string | string[]> }
  | { readonly kind: 's3Script'; readonly bucket: IBucket; readonly key: string; readonly fileName: string };

/** The props that choose what a hook runs. */
export interface HookWorkProps {
  readonly commands?: string[];
  readonly documentName?: string;
  readonly documentVersion?: string;
  readonly documentParameters?: Record<string, unknown>;
  readonly scriptBucket?: IBucket;
  readonly scriptKey?: string;
  readonly shell?: string;
  readonly workingDirectory?: string;
}

/**
 * What the hook runs, from exactly one of `commands`, `documentName` and
 * `scriptBucket` with `scriptKey`, and the props that go with it.
 * @throws at synth time, naming the props and what is allowed.
 */
export function hookWork(props: HookWorkProps, powerShell: boolean): HookWork {
  const chosen = [
    props.commands !== undefined ? 'commands' : undefined,
    props.documentName !== undefined ? 'documentName' : undefined,
    props.scriptBucket !== undefined || props.scriptKey !== undefined ? 'scriptBucket and scriptKey' : undefined,
  ].filter((c): c is string => c !== undefined);
  if (chosen.length !== 1) {
    throw new Error(`LifecycleCommandHook: ${chosen.length === 0 ? 'none of commands, documentName or scriptBucket is given' : `${chosen.join(' and ')} are both given`}; `
      + 'give exactly one: commands (shell lines), documentName (an existing Command document) or scriptBucket with scriptKey (a script in S3).');
  }
  const onlyWithDocument = (['documentVersion', 'documentParameters'] as const).filter((p) => props[p] !== undefined);
  if (props.documentName === undefined && onlyWithDocument.length > 0) {
    const other = props.commands !== undefined ? 'inline commands' : 'an S3 script';
    throw new Error(`LifecycleCommandHook: ${onlyWithDocument.join(' and ')} given with ${other}; they apply to documentName only. `
      + (props.commands !== undefined
        ? 'Inline commands take no parameters: write the values into the commands, or run a document of yours with documentName.'
        : 'Remove them, or run a document of yours with documentName.'));
  }
  if (props.commands !== undefined) return { kind: 'commands', commands: props.commands };
  if (props.documentName !== undefined) {
    // The document runs its own steps with its own shell and directory.
    for (const prop of ['shell', 'workingDirectory'] as const) {
      if (props[prop] !== undefined) {
        throw new Error(`LifecycleCommandHook: ${prop} is given with documentName; the document ${props.documentName} chooses its own steps' ${prop === 'shell' ? 'plugins' : 'directories'}. `
          + `Remove ${prop}, or pass it as one of the document's parameters in documentParameters.`);
      }
    }
    return documentWork(props.documentName, props.documentVersion, props.documentParameters);
  }
  return s3ScriptWork(props.scriptBucket, props.scriptKey, powerShell);
}

function documentWork(name: string, version: string | undefined, parameters: Record<string, unknown> | undefined): HookWork {
  if (!Token.isUnresolved(name) && !DOCUMENT_NAME_OR_ARN.test(name)) {
    throw new Error(`LifecycleCommandHook: documentName ${JSON.stringify(name)} is not a valid SSM document name; give 3 to 128 letters, digits, `
      + '\'_\', \'-\' or \'.\' (e.g. "AWS-RunRemoteScript"), or the ARN of a document shared with this account.');
  }
  if (version !== undefined && !Token.isUnresolved(version) && !DOCUMENT_VERSION.test(version)) {
    throw new Error(`LifecycleCommandHook: documentVersion ${JSON.stringify(version)} is not a document version; give "$DEFAULT", "$LATEST" or a version number such as "3".`);
  }
  return {
    kind: 'document',
    // The agent's aws:runDocument reads "name:version" (ParseDocumentNameAndVersion in agent/framework/docparser).
    documentPath: version === undefined ? name : `${name}:${version}`,
    ...(parameters !== undefined ? { parameters: documentParameters(parameters) } : {}),
  };
}

/**
 * The parameters passed to the document: names the agent reads, each a string
 * or a list of strings, no `{{ name }}` of the hook's own document but
 * `{{ executionTimeout }}`.
 */
function documentParameters(parameters: Record<string, unknown>): Record<string, string | string[]> {
  if (Token.isUnresolved(parameters) || typeof parameters !== 'object' || parameters === null || Array.isArray(parameters)) {
    throw new Error(`LifecycleCommandHook: documentParameters is ${describeValue(parameters)}; give a map of parameter names to a string or a list of strings, known at synth time, `
      + 'e.g. { commandLine: "drain.sh" }.');
  }
  const seen = new Map<string, string>();
  for (const [name, value] of Object.entries(parameters)) {
    if (!AGENT_PARAMETER_NAME.test(name)) {
      throw new Error(`LifecycleCommandHook: documentParameters names the parameter ${JSON.stringify(name)}; a document parameter's name is letters and digits only `
        + '(the SSM agent drops any other, and the document would run with its default).');
    }
    // A map holds each name once; names that differ only in case are the one parameter given twice, one spelling
    // of which the agent (whose names are case-sensitive) would pass to no parameter of the document.
    const twin = seen.get(name.toLowerCase());
    if (twin !== undefined) {
      throw new Error(`LifecycleCommandHook: documentParameters names the parameter ${JSON.stringify(name)} twice, also as ${JSON.stringify(twin)}; `
        + 'the agent matches names case-sensitively, so one of the two values would be ignored. Keep the spelling the document declares.');
    }
    seen.set(name.toLowerCase(), name);
    const values = typeof value === 'string' ? [value] : Array.isArray(value) && value.every((v) => typeof v === 'string') ? value as string[] : undefined;
    if (values === undefined) {
      throw new Error(`LifecycleCommandHook: documentParameters.${name} is ${describeValue(value)}; give a string (for a String or StringMap parameter, a map as JSON text) `
        + 'or a list of strings (for a StringList parameter).');
    }
    for (const text of values) {
      if (Token.isUnresolved(text)) continue;
      for (const [reference, referenced] of text.matchAll(DOCUMENT_PARAMETER)) {
        if (referenced === EXECUTION_TIMEOUT_PARAMETER) continue;
        throw new Error(`LifecycleCommandHook: documentParameters.${name} contains ${JSON.stringify(reference)}; the hook's document declares no parameter "${referenced}" `
          + `(only ${EXECUTION_TIMEOUT_PARAMETER}, the hook's timeout in seconds), and its agent would pass the text on for the document to replace.`);
      }
    }
  }
  return parameters as Record<string, string | string[]>;
}

function s3ScriptWork(bucket: IBucket | undefined, key: string | undefined, powerShell: boolean): HookWork {
  if (bucket === undefined || key === undefined) {
    throw new Error(`LifecycleCommandHook: ${bucket === undefined ? 'scriptKey is given without scriptBucket' : 'scriptBucket is given without scriptKey'}; `
      + 'a script in S3 needs both: the bucket (an IBucket) and the object\'s key.');
  }
  if (Token.isUnresolved(key)) {
    throw new Error('LifecycleCommandHook: scriptKey is a token; give the object\'s key as text known at synth time. The construct grants the instances '
      + 's3:GetObject on that one object, names the downloaded file after it, and refuses a key the agent would read as a folder; a token could be any of those.');
  }
  const allowed = `give the key of one object, e.g. "scripts/drain.sh"${powerShell ? ' (ending in ".ps1" with shell CommandShell.POWERSHELL)' : ''}`;
  if (key === '' || key.endsWith('/')) {
    throw new Error(`LifecycleCommandHook: scriptKey ${JSON.stringify(key)} names a folder; the SSM agent would download every object under it. ${allowed}.`);
  }
  if (Buffer.byteLength(key, 'utf8') > MAX_S3_KEY_BYTES) {
    throw new Error(`LifecycleCommandHook: scriptKey is ${Buffer.byteLength(key, 'utf8')} bytes long; S3 keys are at most ${MAX_S3_KEY_BYTES}.`);
  }
  if (/[*?]/.test(key)) {
    throw new Error(`LifecycleCommandHook: scriptKey ${JSON.stringify(key)} holds "*" or "?", which the instance role's s3:GetObject grant would read as a wildcard; ${allowed}.`);
  }
  if (/[\u0000-\u001f\u007f]/.test(key) || new RegExp(DOCUMENT_PARAMETER.source).test(key)) {
    throw new Error(`LifecycleCommandHook: scriptKey ${JSON.stringify(key)} holds a control character or a "{{ name }}" that the SSM agent would replace; ${allowed}.`);
  }
  const fileName = key.slice(key.lastIndexOf('/') + 1);
  if (fileName === '.' || fileName === '..') {
    throw new Error(`LifecycleCommandHook: scriptKey ${JSON.stringify(key)} ends in "${fileName}", which is no file name on the instance; ${allowed}.`);
  }
  if (powerShell && !fileName.toLowerCase().endsWith('.ps1')) {
    throw new Error(`LifecycleCommandHook: scriptKey ${JSON.stringify(key)} does not end in ".ps1"; with shell CommandShell.POWERSHELL the script runs as a PowerShell script file, `
      + 'which PowerShell recognizes by that extension. Rename the object, or use CommandShell.SH.');
  }
  return { kind: 's3Script', bucket, key, fileName };
}
