/**
 * Running the hook's command on an instance with SSM Run Command: finding the
 * command an action already has, and sending it at most once even when
 * SendCommand's answer is lost.
 */
import {
  ListCommandsCommand,
  SendCommandCommand,
  SSMClient,
} from '@aws-sdk/client-ssm';
import { contextParameters } from './action-context';
import { errorName, isThrottling, isTransient } from './aws-errors';
import { clientOptions } from './client-options';
import {
  commentForAction,
  HookConfig,
  LifecycleAction,
  LOST_ANSWER_CHECKS_MS,
  throttledSendDelayMs,
  tokenOfComment,
} from './events';
import { hookClients } from './hook-clients';
import { sleep } from './timing';

// Clients live for the whole execution environment; reads retry on their own
// budget, not a quota shared across events (client-options.ts).
const ssm = new SSMClient(clientOptions());
// SendCommand goes through the hook's own client, which never retries (hook-clients.ts):
// sendCommand repeats a refused attempt itself and looks for a lost one before sending again.

/** Attempts at SendCommand within one invocation. */
const SEND_ATTEMPTS = 3;

/** Thrown when SendCommand's answers were lost and the window for sending closed before ListCommands showed the command. */
export class SendUnsettledError extends Error {
  override readonly name = 'SendUnsettled';
  /** Another invocation may settle it after the claim's lease: worth a Lambda retry. */
  readonly $retryable = {};
}

/** The id of the command of this hook's document that carries the action's token, if SSM lists one. */
export async function findCommandOfAction(config: HookConfig, action: LifecycleAction): Promise<string | undefined> {
  const listed = await ssm.send(new ListCommandsCommand({
    InstanceId: action.instanceId,
    Filters: [{ key: 'DocumentName', value: config.documentName }],
  }));
  const comment = commentForAction(action.token);
  return (listed.Commands ?? []).find((c) => c.Comment === comment)?.CommandId;
}

/** The lifecycle action token a command of this hook's document carries in its comment. */
export async function tokenOfCommand(config: HookConfig, commandId: string, instanceId: string): Promise<string | undefined> {
  const listed = await ssm.send(new ListCommandsCommand({ CommandId: commandId, InstanceId: instanceId }));
  const command = (listed.Commands ?? []).find((c) => c.CommandId === commandId && c.DocumentName === config.documentName);
  return tokenOfComment(command?.Comment);
}

/**
 * Sends the hook's document to the instance, at most once, starting no attempt
 * after `sendBy`. A throttled attempt was refused and is simply repeated. After
 * a 5xx or a dropped connection the command may exist, and ListCommands lags:
 * the handler looks for it until well past that lag, and sends again only if
 * it is still missing. The action's context goes as parameters; a document
 * that does not declare them (one written by an earlier version of the
 * construct, while a deployment replaces it) refuses them, and the command is
 * then sent without them.
 * @returns the command's id.
 * @throws the first permanent error; `SendUnsettledError` or the last transient
 * error when the window closed without a command known to exist.
 */
export async function sendCommand(config: HookConfig, action: LifecycleAction, sendBy: number): Promise<string> {
  const { instanceId } = action;
  let context: Record<string, string[]> | undefined = contextParameters(config, action);
  for (let attempt = 1; ; attempt++) {
    // After the send window the claim may pass to another invocation, which must not meet a command sent later.
    if (Date.now() > sendBy) throw new SendUnsettledError('the send window closed before SendCommand could be called');
    try {
      const sent = await hookClients(config).ssmSendOnce.send(new SendCommandCommand({
        DocumentName: config.documentName,
        // The document gains a version on each update of the hook's commands.
        DocumentVersion: '$LATEST',
        InstanceIds: [instanceId],
        Comment: commentForAction(action.token),
        TimeoutSeconds: config.deliveryTimeoutSeconds,
        // Given, not left to the document's default, so that SSM's expiry of the
        // command (delivery plus execution timeout) covers the whole run.
        Parameters: { executionTimeout: [String(config.executionTimeoutSeconds)], ...context },
        CloudWatchOutputConfig: {
          CloudWatchOutputEnabled: true,
          CloudWatchLogGroupName: config.outputLogGroupName,
        },
      }));
      const commandId = sent.Command?.CommandId;
      if (!commandId) throw new Error('SendCommand answered without a command id');
      return commandId;
    } catch (error) {
      if (context && errorName(error) === 'InvalidParameters') {
        // Refused, so not sent: sending again cannot make a second command.
        console.warn({ message: 'the hook\'s document does not take the action\'s context; sending the command without it', instanceId, error: errorName(error) });
        context = undefined;
        continue;
      }
      if (!isTransient(error)) throw error;
      if (isThrottling(error)) {
        const delay = throttledSendDelayMs(attempt) * (0.5 + Math.random() / 2);
        if (attempt >= SEND_ATTEMPTS || Date.now() + delay > sendBy) throw error;
        await sleep(delay);
        continue;
      }
      const found = await lookForLostCommand(config, action);
      if (found) {
        console.info({ message: 'command sent; its answer was lost', instanceId, commandId: found, error: errorName(error) });
        return found;
      }
      if (attempt >= SEND_ATTEMPTS || Date.now() > sendBy) {
        throw new SendUnsettledError(`SendCommand failed (${errorName(error)}) and the command was not listed by the end of the send window`);
      }
      console.warn({ message: 'SendCommand failed and the command is not listed; sending again', instanceId, error: errorName(error) });
    }
  }
}

/** Looks for a command whose SendCommand answer was lost, at the times of LOST_ANSWER_CHECKS_MS after the failure. */
async function lookForLostCommand(config: HookConfig, action: LifecycleAction): Promise<string | undefined> {
  let waited = 0;
  for (const at of LOST_ANSWER_CHECKS_MS) {
    await sleep(at - waited);
    waited = at;
    const found = await findCommandOfAction(config, action);
    if (found) return found;
  }
  return undefined;
}
