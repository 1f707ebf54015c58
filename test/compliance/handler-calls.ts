// The AWS calls the handler's code makes, read from its source: every
// `new XxxCommand(` in src/handler/*.ts, named as IAM names the action
// (service prefix from the SDK client package it is imported from).
import { readdirSync, readFileSync } from 'fs';
import * as path from 'path';

/** The IAM service prefix of each AWS SDK v3 client package the handler imports. */
const SERVICE_OF_CLIENT: Record<string, string> = {
  '@aws-sdk/client-auto-scaling': 'autoscaling',
  '@aws-sdk/client-dynamodb': 'dynamodb',
  '@aws-sdk/client-sfn': 'states',
  '@aws-sdk/client-ssm': 'ssm',
};

/**
 * Calls that only a launch hook's handler makes: the registration wait (a
 * launch hook's state machine, started with StartExecution) and the checks of
 * the SSM agent's registration (DescribeInstanceInformation, in
 * registration-wait.ts and in reconcile.ts behind `config.transition ===
 * 'launch'` or a record in the `waiting` state, which only the registration
 * wait writes). Read from the code, not derived: iam-lint.test.ts holds
 * each to a call the scan finds.
 */
export const LAUNCH_ONLY_CALLS = ['states:StartExecution', 'ssm:DescribeInstanceInformation'];

const HANDLER_DIR = path.join(__dirname, '..', '..', 'src', 'handler');

/** Each action the handler calls, with the files that call it. */
export function handlerCalls(dir = HANDLER_DIR): Map<string, string[]> {
  const calls = new Map<string, string[]>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.ts')).sort()) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    const serviceOf = new Map<string, string>();
    for (const m of source.matchAll(/import\s*(?:type\s*)?\{([^}]*)\}\s*from\s*'(@aws-sdk\/client-[a-z0-9-]+)'/g)) {
      const service = SERVICE_OF_CLIENT[m[2]];
      if (!service) throw new Error(`${file} imports ${m[2]}: add its IAM service prefix to SERVICE_OF_CLIENT`);
      for (const name of m[1].split(',').map((n) => n.trim().replace(/^type\s+/, '').split(/\s+as\s+/)[0])) serviceOf.set(name, service);
    }
    for (const m of source.matchAll(/new\s+([A-Z][A-Za-z0-9]*)Command\s*\(/g)) {
      const service = serviceOf.get(`${m[1]}Command`);
      if (!service) throw new Error(`${file}: ${m[1]}Command is not imported from an AWS SDK client package`);
      const action = `${service}:${m[1]}`;
      calls.set(action, [...new Set([...(calls.get(action) ?? []), file])]);
    }
  }
  return calls;
}

/** The actions a hook's handler calls, for its transition. */
export function callsOfTransition(transition: 'launch' | 'terminate', calls = handlerCalls()): string[] {
  return [...calls.keys()].filter((action) => transition === 'launch' || !LAUNCH_ONLY_CALLS.includes(action)).sort();
}
