/**
 * Which hook an event is for, and so with which configuration the handler
 * takes it: the shared function receives the events of every hook of its
 * runtime (hook-config.ts says where each kind of event finds its hook).
 */
import { INVOCATION_DETAIL_TYPE, isRecord, REGISTRATION_CHECK_KEY, SCHEDULED_DETAIL_TYPE } from './events';
import {
  EVENT_KEY,
  HOOK_KEY,
  HookConfig,
  hookConfig,
  parseHookSettings,
  refusal,
  RuntimeSettings,
  settingsOfDocument,
  withGroupName,
  carriesTag,
} from './hook-config';

/** Where an event goes. */
export type Route =
  /** An event of one hook, unwrapped, and that hook's configuration. */
  | { readonly kind: 'hook'; readonly config: HookConfig; readonly event: unknown }
  /** The runtime's schedule: a reconciliation pass over every hook. */
  | { readonly kind: 'pass' }
  | { readonly kind: 'ignored'; readonly reason: string };

export async function routeEvent(event: unknown, runtime: RuntimeSettings): Promise<Route> {
  if (!isRecord(event)) return ignored('not an object');

  // A lifecycle event, as its hook's rule wraps it.
  if (HOOK_KEY in event && EVENT_KEY in event) {
    const settings = parseHookSettings(event[HOOK_KEY]);
    if (typeof settings === 'string') return ignored(settings);
    const refused = refusal(runtime, settings);
    if (refused) return ignored(refused);
    // The hook's rule puts the group's name from the event into the settings of a group of the same app.
    if (settings.groupName === undefined) return ignored('hook settings in a rule\'s wrapper name no group');
    // Its rule matches the hook's name alone: an event of another group whose hook has the same name is not this hook's.
    if (settings.groupTag && !(await carriesTag(settings.groupTag, settings.groupName))) {
      return ignored('lifecycle event of a group that does not carry the hook\'s tag');
    }
    return { kind: 'hook', config: hookConfig({ ...settings, groupName: settings.groupName }, runtime), event: event[EVENT_KEY] };
  }

  // A registration check, with the settings its launch event came with.
  if (REGISTRATION_CHECK_KEY in event) {
    const check = event[REGISTRATION_CHECK_KEY];
    const settings = parseHookSettings(isRecord(check) ? check.Hook : undefined);
    if (typeof settings === 'string') return ignored(`registration check: ${settings}`);
    const refused = refusal(runtime, settings);
    if (refused) return ignored(`registration check: ${refused}`);
    if (settings.groupName === undefined) return ignored('registration check: hook settings name no group');
    return { kind: 'hook', config: hookConfig({ ...settings, groupName: settings.groupName }, runtime), event };
  }

  const detailType = event['detail-type'];
  if (detailType === SCHEDULED_DETAIL_TYPE) {
    // Only the runtime's schedule rule sends Scheduled Events to the function.
    return event.source === 'aws.events' ? { kind: 'pass' } : ignored('scheduled event from an unexpected source');
  }

  // A command's status event: its document names the hook.
  if (detailType === INVOCATION_DETAIL_TYPE && isRecord(event.detail)) {
    const documentName = event.detail['document-name'];
    if (typeof documentName !== 'string') return ignored('command invocation event without a document-name');
    const settings = await settingsOfDocument(runtime, documentName);
    if (!settings) return ignored('command invocation of a document that is no hook\'s of this runtime');
    const instanceId = typeof event.detail['instance-id'] === 'string' ? event.detail['instance-id'] : undefined;
    const named = await withGroupName(settings, instanceId);
    if (!named) return ignored('command invocation of a hook whose group carries its tag no more');
    return { kind: 'hook', config: hookConfig(named, runtime), event };
  }

  return ignored('not an event of a hook of this runtime');
}

function ignored(reason: string): Route {
  return { kind: 'ignored', reason };
}
