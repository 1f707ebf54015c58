// The AWS calls the handler's code makes, read from its source: every
// `new XxxCommand(` in src/handler/*.ts, named as IAM names the action
// (service prefix from the SDK client package it is imported from), and which
// of them go through a hook's clients (hook-clients.ts: `hookClients(config).<client>.send(new XxxCommand(`),
// whose credentials are the hook's role's, which the function assumes.
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

/** The IAM service prefix of each AWS SDK v3 client package the handler imports. */
const SERVICE_OF_CLIENT: Record<string, string> = {
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-ssm': 'ssm',
  '@aws-sdk/client-sts': 'sts',
};

/**
 * Calls that only a launch hook's handler makes: the registration wait (the
 * runtime's state machine, started with StartExecution) and the checks of
 * the SSM agent's registration (DescribeInstanceInformation, in
 * registration-wait.ts and in reconcile.ts behind `config.transition ===
 * 'launch'` or a record in the `waiting` state, which only the registration
 * wait writes). Read from the code, not derived: iam-lint.test.ts holds
 * each to a call the scan finds.
 */
export const LAUNCH_ONLY_CALLS = ['states:StartExecution', 'ssm:DescribeInstanceInformation'];

const HANDLER_DIR = path.join(__dirname, '..', '..', 'src', 'handler');

/** What the scan finds: each action with the files that call it, and how it is called. */
export interface HandlerCalls extends Map<string, string[]> {
  /** The actions called through a hook's clients: with the hook's role. */
  readonly withHookRole: ReadonlySet<string>;
}

/** Each action the handler calls, with the files that call it. */
export function handlerCalls(dir = HANDLER_DIR): HandlerCalls {
  const calls = new Map<string, string[]>();
  const withHookRole = new Set<string>();
  const withOwnRole = new Set<string>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const serviceOf = new Map<string, string>();
    for (const m of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      const service = SERVICE_OF_CLIENT[m[2]];
      if (!service) throw new Error(`${file} imports ${m[2]}: add its IAM service prefix to SERVICE_OF_CLIENT`);
      for (const name of m[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0])) serviceOf.set(name, service);
    }
    for (const m of source.matchAll(/(hookClients\s*\([^()]*\)\s*\.\s*\w+\s*\.\s*send\s*\(\s*)?new\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)) {
      const service = serviceOf.get(`${m[2]}Command`);
      if (!service) throw new Error(`${file}: ${m[2]}Command is not imported from an AWS SDK client package`);
      const action = `${service}:${m[2]}`;
      calls.set(action, [...new Set([...(calls.get(action) ?? []), file])]);
      (m[1] ? withHookRole : withOwnRole).add(action);
    }
  }
  const both = [...withHookRole].filter((action) => withOwnRole.has(action));
  if (both.length > 0) throw new Error(`called both with a hook's role and with the function's own: ${both.join(', ')}`);
  return Object.assign(calls, { withHookRole });
}

/** The actions a hook's handler calls, for its transition. */
export function callsOfTransition(transition: 'launch' | 'terminate', calls = handlerCalls()): string[] {
  return [...calls.keys()].filter((action) => transition === 'launch' || !LAUNCH_ONLY_CALLS.includes(action)).sort();
}
