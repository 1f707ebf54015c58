/**
 * A step of an instance's life at which a lifecycle hook fires. Without a
 * warm pool, a launch hook fires only at `LAUNCH_INTO_GROUP` and a terminate
 * hook only at `TERMINATE`; with one, Auto Scaling also fires launch hooks as
 * instances enter the pool and leave it, and terminate hooks as instances
 * return to it.
 */
export enum LifecycleStage {
  /** Launch hooks: a new instance enters the warm pool (EC2 to WarmPool; it waits in `Warmed:Pending:Wait`). */
  ENTER_WARM_POOL = 'enter-warm-pool',
  /** Launch hooks: an instance leaves the warm pool for the group (WarmPool to AutoScalingGroup). */
  LEAVE_WARM_POOL = 'leave-warm-pool',
  /** Launch hooks: a new instance launches straight into the group (EC2 to AutoScalingGroup), as in every group without a warm pool. */
  LAUNCH_INTO_GROUP = 'launch-into-group',
  /** Terminate hooks: an instance leaves the group for the warm pool (AutoScalingGroup to WarmPool), when the pool reuses instances on scale-in. */
  RETURN_TO_WARM_POOL = 'return-to-warm-pool',
  /** Terminate hooks: an instance terminates, from the group or from the warm pool (to EC2). */
  TERMINATE = 'terminate',
}
