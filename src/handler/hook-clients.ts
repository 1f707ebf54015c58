/**
 * The clients that act on a hook's group: SendCommand to its instances, and
 * heartbeats and completions of its lifecycle actions. Each hook has a role of
 * its own that may do exactly that for its group and its document; the
 * function assumes it for the hook's calls, so that one hook's rights never
 * reach another hook's group. Credentials are kept per role for the life of
 * the execution environment and renewed before they expire; the reads that
 * have no resource type, the action table and the registration wait stay on
 * the function's own role.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { SSMClient } from '@aws-sdk/client-ssm';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { clientOptions } from './client-options';
import type { HookConfig } from './hook-config';

const sts = new STSClient(clientOptions());

/** The clients of one hook. */
export interface HookClients {
  /** Heartbeats and completions of the hook's lifecycle actions. */
  readonly autoScaling: AutoScalingClient;
  /**
   * SendCommand has no client token: an SDK retry after a 5xx or a dropped
   * connection could run the commands a second time. This client never
   * retries; sending.ts repeats a refused attempt itself and looks for a lost
   * one. A send that gets no answer within 10 s is a lost answer like any other.
   */
  readonly ssmSendOnce: SSMClient;
}

/** One hour, the most a role chained from the function's role may be assumed for. */
const SESSION_SECONDS = 3600;

const byRole = new Map<string, HookClients>();
let ownClients: HookClients | undefined;

/** The clients that act for the hook: with its role's credentials, or the function's own when it names none. */
export function hookClients(config: Pick<HookConfig, 'roleArn'>): HookClients {
  if (!config.roleArn) return ownClients ??= makeClients();
  let clients = byRole.get(config.roleArn);
  if (!clients) {
    clients = makeClients(roleCredentials(config.roleArn));
    byRole.set(config.roleArn, clients);
  }
  return clients;
}

function makeClients(credentials?: () => Promise<Credentials>): HookClients {
  return {
    autoScaling: new AutoScalingClient({ ...clientOptions(), ...(credentials ? { credentials } : {}) }),
    ssmSendOnce: new SSMClient({ maxAttempts: 1, requestHandler: { requestTimeout: 10_000 }, ...(credentials ? { credentials } : {}) }),
  };
}

interface Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
  readonly expiration?: Date;
}

/** A credential provider for the role: AssumeRole once, again when less than five minutes are left. */
function roleCredentials(roleArn: string): () => Promise<Credentials> {
  let current: Credentials | undefined;
  let pending: Promise<Credentials> | undefined;
  return async () => {
    if (current?.expiration && current.expiration.getTime() - Date.now() > 300_000) return current;
    pending ??= assume(roleArn).finally(() => { pending = undefined; });
    current = await pending;
    return current;
  };
}

/**
 * Thrown when the hook's role cannot be assumed (IAM has not yet propagated a
 * new role, or STS is throttled or down): nothing can be sent or completed for
 * the hook without it, so the event is retried, and the pass repairs the rest.
 */
export class HookRoleUnavailableError extends Error {
  override readonly name = 'HookRoleUnavailable';
  readonly $retryable = {};
}

async function assume(roleArn: string): Promise<Credentials> {
  const answer = await sts.send(new AssumeRoleCommand({
    RoleArn: roleArn,
    RoleSessionName: `lifecycle-command-${(process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'hook').slice(-40)}`.replace(/[^\w+=,.@-]/g, '-'),
    DurationSeconds: SESSION_SECONDS,
  })).catch((error: unknown) => {
    throw new HookRoleUnavailableError(`AssumeRole of ${roleArn} failed: ${(error as { name?: string }).name ?? error}`);
  });
  const c = answer.Credentials;
  if (!c?.AccessKeyId || !c.SecretAccessKey) throw new HookRoleUnavailableError(`AssumeRole of ${roleArn} gave no credentials`);
  return { accessKeyId: c.AccessKeyId, secretAccessKey: c.SecretAccessKey, sessionToken: c.SessionToken, expiration: c.Expiration };
}
