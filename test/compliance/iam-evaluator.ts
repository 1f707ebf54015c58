// A small evaluator of identity-based IAM policy statements, enough to show
// what the handler's role allows: Allow and Deny statements, Action and
// Resource with * and ? wildcards, and the condition operators below. Anything
// it does not model (NotAction, NotResource, other operators, IfExists,
// ForAnyValue...) throws rather than guess.

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
  const resourceMatches = list(s.Resource).some((r) => glob(r, request.resource));
  return actionMatches && resourceMatches && conditionsHold(s.Condition ?? {}, request.context ?? {});
}

function conditionsHold(condition: Record<string, Record<string, string | string[]>>, context: Record<string, string>): boolean {
  return Object.entries(condition).every(([operator, keys]) => Object.entries(keys).every(([key, expected]) => {
    // Condition keys are case-insensitive.
    const actual = Object.entries(context).find(([k]) => k.toLowerCase() === key.toLowerCase())?.[1];
    // A key missing from the request fails every operator modelled here.
    if (actual === undefined) return false;
    const values = list(expected);
    switch (operator) {
      case 'StringEquals': return values.includes(actual);
      case 'StringLike': return values.some((v) => glob(v, actual));
      case 'ArnEquals': return values.includes(actual);
      case 'ArnLike': return values.some((v) => glob(v, actual));
      case 'Bool': return values.map((v) => String(v).toLowerCase()).includes(actual.toLowerCase());
      default: throw new Error(`the evaluator does not model the condition operator ${operator}`);
    }
  }));
}

/** IAM's wildcard match: `*` any run of characters (also across `/` and `:`), `?` exactly one. */
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
