// The one place that knows where the policies that apply to the handler's AWS
// calls live in a synthesized template. The layout: one function per stack
// (the runtime's), whose execution role makes the runtime's own calls, and,
// for each hook, a role of the hook's own that the function assumes (through
// STS, src/handler/hook-clients.ts) for the calls that act on the hook's group:
// those the handler makes through the hook's clients (handler-calls.ts finds
// them in the code). The IAM lint and the call simulations read the statements here.
import { handlerCalls, HandlerCalls } from './handler-calls';
import type { HookTemplate, TemplateResource } from './hook-template';
import type { Statement } from './iam-evaluator';
import { RUNTIME_ENVIRONMENT } from '../../src/handler/hook-settings';

/** The identity policies of one role. */
export interface RolePolicies {
  /** The role's logical id. */
  readonly roleId: string;
  /** Every identity policy statement of the role, resolved, by where it is held (a policy's logical id, or `<role>.Policies[i]`). */
  readonly statementsBy: Record<string, Statement[]>;
  /** All of them. */
  readonly statements: Statement[];
}

export interface HandlerPolicies {
  /** The logical id of the function that serves the hook: its runtime's. */
  readonly functionId: string;
  /** The function's execution role: the runtime's own calls. */
  readonly runtimeRole: RolePolicies;
  /** The hook's role, which the function assumes for the calls that act on the hook's group. */
  readonly hookRole: RolePolicies;
  /** The hook's transition, as its settings say. */
  readonly transition: 'launch' | 'terminate';
  /** The actions the handler calls with the hook's role (the rest with the function's own). */
  readonly hookRoleCalls: ReadonlySet<string>;
  /** The statements that apply to a call of the handler for this hook: the hook role's or the function role's. */
  statementsFor(action: string): Statement[];
}

/** The handler of one hook: the function of the runtime whose prefix the hook's document bears, and the hook's role. */
export function handlerPolicies(t: HookTemplate, calls: HandlerCalls = handlerCalls()): HandlerPolicies {
  const resolve = t.runtime.resolve;
  const functions = Object.entries(t.resources).filter(([, r]) => {
    if (r.Type !== 'AWS::Lambda::Function') return false;
    const prefix = resolve(r.Properties?.Environment?.Variables?.[RUNTIME_ENVIRONMENT.namePrefix] ?? null);
    return typeof prefix === 'string' && t.documentName.startsWith(`${prefix}-`);
  });
  if (functions.length !== 1) throw new Error(`${t.key}: expected one runtime function for document ${t.documentName}, found ${functions.length}`);
  const [functionId, fn] = functions[0];
  const variables = resolve(fn.Properties!.Environment.Variables);
  // The function serves only the hooks whose settings are under its parameter path.
  const parameter = t.resources[t.logicalId('Settings')].Properties!.Name;
  if (parameter !== `${variables[RUNTIME_ENVIRONMENT.hookParameterPath]}${t.documentName}`) {
    throw new Error(`${t.key}: the hook's settings (${parameter}) are not under the function's parameter path`);
  }
  const functionRoleId = fn.Properties!.Role?.['Fn::GetAtt']?.[0];
  if (!functionRoleId || t.resources[functionRoleId]?.Type !== 'AWS::IAM::Role') throw new Error(`${t.key}: the function's role is not a role of the stack`);
  // The hook's role is the one its settings name, and it trusts the function's role.
  if (t.settings.roleArn !== t.roleArn) throw new Error(`${t.key}: the settings name the role ${t.settings.roleArn}, not the hook's ${t.roleArn}`);
  const functionRoleArn = t.physical[`${functionRoleId}.Arn`];
  if (!t.trust.some((s) => s.Effect === 'Allow' && [s.Action].flat().includes('sts:AssumeRole') && [s.Principal?.AWS].flat().includes(functionRoleArn))) {
    throw new Error(`${t.key}: the hook's role does not trust the function's role`);
  }
  const runtimeRole = roleStatements(t, functionRoleId);
  const hookRole = roleStatements(t, t.roleId);
  const transition = t.settings.transition;
  if (transition !== 'launch' && transition !== 'terminate') throw new Error(`${t.key}: the settings' transition is ${transition}`);
  return {
    functionId,
    runtimeRole,
    hookRole,
    transition,
    hookRoleCalls: calls.withHookRole,
    statementsFor: (action) => (calls.withHookRole.has(action) ? hookRole : runtimeRole).statements,
  };
}

/** The identity policy statements of a role of the stack: inline, attached policies, and managed policies of the stack. */
export function roleStatements(t: HookTemplate, roleId: string): RolePolicies {
  const resolve = t.runtime.resolve;
  const role = t.resources[roleId];
  const refersToRole = (r: TemplateResource) => (r.Properties?.Roles ?? []).some((ref: any) => ref?.Ref === roleId);
  const statementsBy: Record<string, Statement[]> = {};
  for (const [id, r] of Object.entries(t.resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && refersToRole(r)) statementsBy[id] = t.runtime.policyStatements(id);
  }
  (role.Properties?.Policies ?? []).forEach((p: any, i: number) => {
    statementsBy[`${roleId}.Policies[${i}]`] = resolve(p.PolicyDocument.Statement);
  });
  for (const arn of role.Properties?.ManagedPolicyArns ?? []) {
    const ref = arn?.Ref;
    if (!ref || t.resources[ref]?.Type !== 'AWS::IAM::ManagedPolicy') throw new Error(`${t.key}: the role has a managed policy from outside the stack: ${JSON.stringify(arn)}`);
    statementsBy[ref] = t.runtime.policyStatements(ref);
  }
  return { roleId, statementsBy, statements: Object.values(statementsBy).flat() };
}
