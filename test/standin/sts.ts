/**
 * STS, as far as the runtime's function uses it: AssumeRole of a hook's role.
 * A role that does not exist (not yet created, or deleted) is refused with
 * `AccessDenied`, as STS answers when the caller may not assume it.
 *
 * Sources: STS API Reference, AssumeRole (DurationSeconds 900 to the role's
 * maximum; a role chained from another role's session at most one hour; the
 * answer's Credentials with Expiration). FIDELITY.md has the rows.
 */
import { RealDate, type VirtualClock } from './clock';
import { ApiError } from './model';
import type { Rng } from './rng';

/** The longest session of a role assumed from a role's session (role chaining). */
const CHAINED_SESSION_SECONDS = 3600;

export class Sts {
  private readonly roles = new Set<string>();

  constructor(private readonly clock: VirtualClock, private readonly rng: Rng) {}

  /** Makes a role assumable, as CloudFormation's creation of it does. */
  createRole(arn: string): void {
    this.roles.add(arn);
  }

  deleteRole(arn: string): void {
    this.roles.delete(arn);
  }

  assumeRole(p: Record<string, unknown>): Record<string, unknown> {
    const arn = String(p.RoleArn);
    if (!this.roles.has(arn)) throw new ApiError('AccessDenied', `User is not authorized to perform: sts:AssumeRole on resource: ${arn}`, 403);
    const seconds = Number(p.DurationSeconds ?? CHAINED_SESSION_SECONDS);
    if (seconds < 900 || seconds > CHAINED_SESSION_SECONDS) {
      throw new ApiError('ValidationError', 'The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.');
    }
    return {
      Credentials: {
        AccessKeyId: `ASIA${this.rng.hex(16).toUpperCase()}`,
        SecretAccessKey: this.rng.hex(40),
        SessionToken: this.rng.hex(64),
        Expiration: new RealDate(this.clock.now + seconds * 1000),
      },
      AssumedRoleUser: { AssumedRoleId: `AROA${this.rng.hex(16).toUpperCase()}:${String(p.RoleSessionName)}`, Arn: arn },
    };
  }
}
