// The one place that knows where the policies that apply to the handler's AWS
// calls live in a synthesized template: today the identity policies of the
// handler function's execution role. If the layout changes (a shared runtime
// role, a role per hook that the function assumes), change this file only:
// the IAM lint and the call simulations read the handler's statements here.
import type { HookTemplate, TemplateResource } from './hook-template';
import type { Statement } from './iam-evaluator';
import { HOOK_ENVIRONMENT } from '../../src/handler/events';

export interface HandlerPolicies {
  /** The logical id of the handler function that serves the hook. */
  readonly functionId: string;
  /** The logical id of the role whose permissions the function's calls use. */
  readonly roleId: string;
  /** Every identity policy statement of that role, resolved, by the logical id of the resource that holds it. */
  readonly statementsBy: Record<string, Statement[]>;
  /** All of them. */
  readonly statements: Statement[];
  /** The hook's transition, as the function's environment says. */
  readonly transition: 'launch' | 'terminate';
}

/** The handler of one hook: the function whose environment names the hook's document. */
export function handlerPolicies(t: HookTemplate): HandlerPolicies {
  const functions = Object.entries(t.resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function'
    && t.resolve(r.Properties?.Environment?.Variables?.[HOOK_ENVIRONMENT.documentName] ?? null) === t.documentName);
  if (functions.length !== 1) throw new Error(`${t.key}: expected one handler function for document ${t.documentName}, found ${functions.length}`);
  const [functionId, fn] = functions[0];
  const transition = t.resolve(fn.Properties!.Environment.Variables[HOOK_ENVIRONMENT.transition]);
  const roleId = fn.Properties!.Role?.['Fn::GetAtt']?.[0];
  if (!roleId || t.resources[roleId]?.Type !== 'AWS::IAM::Role') throw new Error(`${t.key}: the handler's role is not a role of the stack`);
  return { functionId, roleId, transition, ...roleStatements(t, roleId) };
}

/** The identity policy statements of a role of the stack: inline, attached policies, and managed policies of the stack. */
export function roleStatements(t: HookTemplate, roleId: string): { statementsBy: Record<string, Statement[]>; statements: Statement[] } {
  const role = t.resources[roleId];
  const refersToRole = (r: TemplateResource) => (r.Properties?.Roles ?? []).some((ref: any) => ref?.Ref === roleId);
  const statementsBy: Record<string, Statement[]> = {};
  for (const [id, r] of Object.entries(t.resources)) {
    if ((r.Type === 'AWS::IAM::Policy' || r.Type === 'AWS::IAM::ManagedPolicy') && refersToRole(r)) statementsBy[id] = t.statements(id);
  }
  (role.Properties?.Policies ?? []).forEach((p: any, i: number) => {
    statementsBy[`${roleId}.Policies[${i}]`] = t.resolve(p.PolicyDocument.Statement);
  });
  for (const arn of role.Properties?.ManagedPolicyArns ?? []) {
    const ref = arn?.Ref;
    if (!ref || t.resources[ref]?.Type !== 'AWS::IAM::ManagedPolicy') throw new Error(`${t.key}: the role has a managed policy from outside the stack: ${JSON.stringify(arn)}`);
    statementsBy[ref] = t.statements(ref);
  }
  return { statementsBy, statements: Object.values(statementsBy).flat() };
}
