/**
 * How the SSM agent runs a Command document of several steps: the hook's
 * document that runs an existing document (`aws:runDocument`) or downloads a
 * script from S3 (`aws:downloadContent`) before its shell step, and the
 * existing documents of the account (the team's own, and AWS-RunRemoteScript).
 *
 * Sources (aws/amazon-ssm-agent):
 * - agent/framework/docparser/parameters/parameters.go (ReplaceParameters): a
 *   value that is exactly `{{ name }}` becomes the parameter's value, of any
 *   type; elsewhere `{{ name }}` is replaced by its text (JSON for a list);
 *   names are letters and digits; a parameter not given takes its default;
 * - agent/framework/docparser/docparser.go (ParseParameters: a String
 *   parameter sent with SendCommand is its first value; ParseDocumentNameAndVersion:
 *   `name:version`);
 * - agent/plugins/rundocument/rundocument.go: GetDocument with the instance's
 *   credentials, the document's steps run with the given parameters (the
 *   agent checks only their names' form: a name the document does not declare
 *   is ignored), its status the worst of its steps' (contracts.MergeResultStatus),
 *   at most 3 levels deep;
 * - agent/plugins/downloadcontent/downloadcontent.go and s3resource/s3resource.go:
 *   an S3 object by its HTTPS URL, saved under the command's downloads directory
 *   (a relative destinationPath), mode 0700; a failed download fails the step;
 * - agent/framework/runpluginutil/runpluginutil.go: a failed step does not stop
 *   the next ones unless it has `onFailure: exit`;
 * - agent/plugins/runscript/runscript.go: a shell step without an absolute
 *   working directory starts in the downloads directory when it exists.
 */
import type { Agents, ScriptResult, ScriptStatus, StepAction } from './agent';
import { agentSupportsEnvVar, DEFAULT_AGENT_VERSION, statusOfExit } from './agent';
import type { Instance } from './model';

/** A step of a Command document (schema 2.2), as written. */
export interface DocumentStep {
  readonly action: string;
  readonly name: string;
  readonly inputs: Readonly<Record<string, unknown>>;
}

/** A Command document's content: its parameters and steps. */
export interface DocumentContent {
  readonly parameters?: Readonly<Record<string, { readonly type?: string; readonly default?: unknown; readonly interpolationType?: string }>>;
  readonly mainSteps: readonly DocumentStep[];
}

/** A Command document of the account other than the hooks': its versions (1, 2, ...) and its default version. */
export interface AccountDocument {
  readonly versions: readonly DocumentContent[];
  /** @default 1 */
  readonly defaultVersion?: number;
}

/**
 * AWS-RunRemoteScript as its parameters are documented (SSM User Guide,
 * "Running scripts from Amazon S3"): `sourceType`, `sourceInfo`,
 * `commandLine`, `workingDirectory`, `executionTimeout`. Its steps download
 * the source into the command's downloads directory and run `commandLine`
 * there with that directory on the PATH. The exact lines are the stand-in's
 * reading of the document, not a copy: what the model relies on is the
 * download into the downloads directory and `commandLine` run by `sh` there.
 */
export const AWS_RUN_REMOTE_SCRIPT: AccountDocument = {
  versions: [{
    parameters: {
      sourceType: { type: 'String' },
      sourceInfo: { type: 'StringMap' },
      commandLine: { type: 'String' },
      workingDirectory: { type: 'String', default: '' },
      executionTimeout: { type: 'String', default: '3600' },
    },
    mainSteps: [{
      action: 'aws:downloadContent',
      name: 'downloadContent',
      inputs: { sourceType: '{{ sourceType }}', sourceInfo: '{{ sourceInfo }}' },
    }, {
      action: 'aws:runShellScript',
      name: 'runShellScript',
      inputs: {
        runCommand: ['', 'directory=$(pwd)', 'export PATH=$PATH:$directory', ' {{ commandLine }} ', ''],
        workingDirectory: '{{ workingDirectory }}',
        timeoutSeconds: '{{ executionTimeout }}',
      },
    }],
  }],
};

/** What one command's document did on the instance. */
export interface StepsResult extends ScriptResult {
  /** The steps that ran, by name, with their statuses (inner documents' steps after theirs). */
  readonly steps: ReadonlyArray<{ readonly name: string; readonly status: ScriptStatus | 'Skipped' }>;
}

export interface DocumentWorld {
  readonly agents: Agents;
  /** The account's documents besides the hooks', by name. */
  readonly documents: Readonly<Record<string, AccountDocument>>;
  /** S3 objects by `bucket/key`: their text. */
  readonly s3Objects: Readonly<Record<string, string>>;
}

const MAX_DEPTH = 3;
/** MergeResultStatus's order: a later status wins. */
const ORDER: ReadonlyArray<ScriptStatus | 'Skipped'> = ['Skipped', 'Success', 'Failed', 'TimedOut'];

function merge(a: ScriptStatus | 'Skipped' | undefined, b: ScriptStatus | 'Skipped'): ScriptStatus | 'Skipped' {
  if (a === undefined) return b;
  return ORDER.indexOf(b) > ORDER.indexOf(a) ? b : a;
}

/**
 * Runs a document's steps on the instance for the n-th command sent to it,
 * with the parameters SendCommand gave (lists, as the API takes them). On an
 * agent that knows them (`agentVersion`), `ENV_VAR` parameters are the
 * `SSM_<name>` variables of the document's own shell steps, not text of its
 * steps (agent.ts, prepareStep); a document it runs gets only its parameters.
 */
export function runDocumentSteps(
  world: DocumentWorld, instance: Instance, run: number, content: DocumentContent, sent: Readonly<Record<string, readonly string[]>>,
  agentVersion: string = DEFAULT_AGENT_VERSION,
): StepsResult {
  const envVar = agentSupportsEnvVar(agentVersion);
  const parameters: Record<string, unknown> = {};
  const environment: Record<string, string> = {};
  for (const [name, spec] of Object.entries(content.parameters ?? {})) {
    const given = sent[name];
    const value = given !== undefined ? (spec.type === 'StringList' ? [...given] : given[0]) : spec.default;
    if (value === undefined) continue;
    if (envVar && spec.interpolationType === 'ENV_VAR') environment[`SSM_${name}`] = String(value);
    else parameters[name] = value;
  }
  return runSteps(world, instance, run, content.mainSteps, parameters, 1, {}, environment);
}

function runSteps(
  world: DocumentWorld, instance: Instance, run: number, steps: readonly DocumentStep[],
  parameters: Readonly<Record<string, unknown>>, depth: number, downloads: Record<string, string>,
  environment: Readonly<Record<string, string>> = {},
): StepsResult {
  const done: Array<{ name: string; status: ScriptStatus | 'Skipped' }> = [];
  let status: ScriptStatus | 'Skipped' | undefined;
  let exit = false;
  const out: { ran: string[]; stdout: string; stderr: string; exitCode: number; hung: boolean; platform: 'Linux' | 'Windows' } = {
    ran: [], stdout: '', stderr: '', exitCode: 0, hung: false, platform: 'Linux',
  };
  for (const step of steps) {
    if (exit) {
      done.push({ name: step.name, status: 'Skipped' });
      continue;
    }
    const inputs = replaceParameters(step.inputs, parameters) as Record<string, unknown>;
    let stepStatus: ScriptStatus;
    switch (step.action) {
      case 'aws:downloadContent': {
        const failure = download(world, inputs, downloads);
        if (failure) out.stderr += `${failure}\n`;
        stepStatus = failure ? 'Failed' : 'Success';
        done.push({ name: step.name, status: stepStatus });
        break;
      }
      case 'aws:runDocument': {
        const inner = runDocument(world, instance, run, inputs, depth, downloads);
        if (typeof inner === 'string') {
          out.stderr += `${inner}\n`;
          stepStatus = 'Failed';
        } else {
          stepStatus = inner.status ?? 'Success';
          out.ran.push(...inner.ran);
          out.stdout += inner.stdout;
          out.stderr += inner.stderr;
          out.hung ||= inner.hung;
          out.exitCode = inner.exitCode;
          done.push(...inner.steps);
        }
        done.push({ name: step.name, status: stepStatus });
        break;
      }
      case 'aws:runShellScript':
      case 'aws:runPowerShellScript': {
        const workingDirectory = inputs.workingDirectory;
        if (typeof workingDirectory === 'string' && workingDirectory.startsWith('/')) {
          throw new Error(`the stand-in runs a step in the command's downloads directory only, not in ${workingDirectory}`);
        }
        const runCommand = inputs.runCommand;
        if (!Array.isArray(runCommand) || runCommand.some((l) => typeof l !== 'string')) {
          // The agent cannot read the step's input (runscript.go, Remarshal into []string).
          out.stderr += `Invalid format in plugin properties: runCommand ${JSON.stringify(runCommand)}\n`;
          stepStatus = 'Failed';
          done.push({ name: step.name, status: stepStatus });
          break;
        }
        const result = world.agents.run(instance, runCommand as string[], run, step.action as StepAction, environment, downloads);
        out.ran.push(...result.ran);
        out.stdout += result.stdout;
        out.stderr += result.stderr;
        out.hung ||= result.hung;
        out.exitCode = result.exitCode;
        out.platform = result.platform;
        stepStatus = result.status ?? statusOfExit(result.exitCode, result.platform);
        done.push({ name: step.name, status: stepStatus });
        // 168 and 169 end the document (runpluginutil.go).
        if (result.exitCode === 168 || result.exitCode === 169) exit = true;
        break;
      }
      default:
        throw new Error(`the stand-in's agent does not model the ${step.action} plugin`);
    }
    status = merge(status, stepStatus);
    if (stepStatus === 'Failed' && (inputs.onFailure === 'exit' || inputs.onFailure === 'successAndExit')) exit = true;
  }
  const final = status === undefined || status === 'Skipped' ? 'Success' : status;
  return { ...out, exitCode: final === 'Success' ? 0 : out.exitCode || 1, status: final, steps: done };
}

/** aws:runDocument: the document from the account (GetDocument), run with its parameters; or why it failed. */
function runDocument(
  world: DocumentWorld, instance: Instance, run: number, inputs: Record<string, unknown>, depth: number, downloads: Record<string, string>,
): StepsResult | string {
  if (depth + 1 > MAX_DEPTH) return `Maximum depth for document execution exceeded. Maximum depth permitted - ${MAX_DEPTH} and current depth - ${depth + 1}`;
  if (inputs.documentType !== 'SSMDocument') throw new Error(`the stand-in models aws:runDocument of SSM documents only, not ${String(inputs.documentType)}`);
  const documentPath = String(inputs.documentPath ?? '');
  // ParseDocumentNameAndVersion: the text after the last "/", split at ":".
  const base = documentPath.slice(documentPath.lastIndexOf('/') + 1);
  const [name, version] = base.split(':');
  const docName = version === undefined ? documentPath : documentPath.slice(0, -(version.length + 1));
  const document = world.documents[docName.startsWith('arn:') ? name : docName];
  if (!document) return `InvalidDocument: Document with name ${docName} does not exist.`;
  const number = version === undefined || version === '$DEFAULT' ? document.defaultVersion ?? 1
    : version === '$LATEST' ? document.versions.length : Number(version);
  const content = document.versions[number - 1];
  if (!content) return `InvalidDocumentVersion: Document ${docName} has no version ${version}.`;
  const given = inputs.documentParameters;
  const parameters: Record<string, unknown> = {};
  for (const [key, spec] of Object.entries(content.parameters ?? {})) if (spec.default !== undefined) parameters[key] = spec.default;
  for (const [key, value] of Object.entries((typeof given === 'string' ? JSON.parse(given) : given ?? {}) as Record<string, unknown>)) {
    // Names of letters and digits only; the document's undeclared names change nothing.
    if (/^[a-zA-Z0-9]+$/.test(key) && value !== null) parameters[key] = value;
  }
  return runSteps(world, instance, run, content.mainSteps, parameters, depth + 1, downloads);
}

/** aws:downloadContent from S3: the object by its URL, under the downloads directory; or why it failed. */
function download(world: DocumentWorld, inputs: Record<string, unknown>, downloads: Record<string, string>): string | undefined {
  if (inputs.sourceType !== 'S3') throw new Error(`the stand-in models aws:downloadContent from S3 only, not ${String(inputs.sourceType)}`);
  const info = typeof inputs.sourceInfo === 'string' ? JSON.parse(inputs.sourceInfo) : inputs.sourceInfo as Record<string, unknown>;
  const url = new URL(String(info.path).trim().replace(/\+/g, '%20'));
  // Path-style URLs, as the construct writes them: https://s3.<region>.<suffix>/<bucket>/<key>.
  if (!/^s3[.-]([-a-z0-9]+\.)?amazonaws\.com(\.cn)?$/.test(url.host)) throw new Error(`the stand-in reads path-style S3 URLs only, not ${url.host}`);
  const [bucket, ...rest] = url.pathname.slice(1).split('/');
  const key = rest.map((segment) => decodeURIComponent(segment)).join('/');
  const text = world.s3Objects[`${bucket}/${key}`];
  // Without s3:ListBucket, GetObject of a missing key answers AccessDenied.
  if (text === undefined) return `AccessDenied: Access Denied (s3://${bucket}/${key})`;
  const destination = String(inputs.destinationPath ?? '');
  const name = destination === '' || destination.endsWith('/') ? key.slice(key.lastIndexOf('/') + 1) : destination;
  downloads[name] = text;
  return undefined;
}

/** The agent's ReplaceParameters: `{{ name }}` alone becomes the value, elsewhere its text. */
export function replaceParameters(input: unknown, parameters: Readonly<Record<string, unknown>>): unknown {
  if (typeof input === 'string') {
    for (const [name, value] of Object.entries(parameters)) {
      if (new RegExp(`^\\{\\{\\s*${name}\\s*\\}\\}$`).test(input)) return value;
    }
    return input.replace(/\{\{\s*([a-zA-Z0-9]+)\s*\}\}/g, (whole, name: string) => {
      if (!(name in parameters)) return whole;
      const value = parameters[name];
      return typeof value === 'string' ? value : JSON.stringify(value);
    });
  }
  if (Array.isArray(input)) return input.map((v) => replaceParameters(v, parameters));
  if (typeof input === 'object' && input !== null) {
    return Object.fromEntries(Object.entries(input).map(([k, v]) => [k, replaceParameters(v, parameters)]));
  }
  return input;
}
