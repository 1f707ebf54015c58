/**
 * SSM Parameter Store, as far as the runtime's function reads it: each hook's
 * settings, one String parameter per hook, by name or by path.
 *
 * Sources: SSM API Reference, GetParameter (`ParameterNotFound` for a name
 * that does not exist) and GetParametersByPath (at most 10 parameters a page,
 * `NextToken` for the rest; without `Recursive` only the level right under the
 * path). FIDELITY.md has the rows.
 */
import { ApiError } from './model';

const PAGE_SIZE = 10;

export class ParameterStore {
  private readonly parameters = new Map<string, string>();

  /** Creates or replaces a parameter, as CloudFormation does with the template's. */
  put(name: string, value: string): void {
    this.parameters.set(name, value);
  }

  delete(name: string): void {
    this.parameters.delete(name);
  }

  getParameter(p: Record<string, unknown>): Record<string, unknown> {
    const name = String(p.Name);
    const value = this.parameters.get(name);
    if (value === undefined) throw new ApiError('ParameterNotFound', `Parameter ${name} not found.`);
    return { Parameter: { Name: name, Type: 'String', Value: value, Version: 1 } };
  }

  getParametersByPath(p: Record<string, unknown>): Record<string, unknown> {
    const path = String(p.Path).replace(/\/?$/, '/');
    const names = [...this.parameters.keys()].filter((n) => n.startsWith(path) && (p.Recursive === true || !n.slice(path.length).includes('/'))).sort();
    const start = p.NextToken ? Number(p.NextToken) : 0;
    const page = names.slice(start, start + PAGE_SIZE);
    return {
      Parameters: page.map((name) => ({ Name: name, Type: 'String', Value: this.parameters.get(name), Version: 1 })),
      ...(start + PAGE_SIZE < names.length ? { NextToken: String(start + PAGE_SIZE) } : {}),
    };
  }
}
