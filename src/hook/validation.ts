/**
 * Checks of a hook's props at synth time: each error names the prop, the value
 * received and what is allowed. Pure functions, apart from the tokens they let
 * through.
 */
import { Duration, Token } from 'aws-cdk-lib';
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
