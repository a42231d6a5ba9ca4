/**
 * runstate: Prefect's run-state model as an immutable functional core on Effect.
 *
 * @since 0.1.0
 */

/**
 * @since 0.1.0
 */
export * as Aggregate from "./Aggregate.ts"

/**
 * @since 0.1.0
 */
export * as Failure from "./Failure.ts"

/**
 * @since 0.1.0
 */
export * as FaultInjection from "./FaultInjection.ts"

/**
 * @since 0.2.0
 */
export * as IdGenerator from "./IdGenerator.ts"

/**
 * @since 0.2.0
 */
export * as LockManager from "./LockManager.ts"

/**
 * @since 0.1.0
 */
export * as ResultRecord from "./ResultRecord.ts"

/**
 * @since 0.1.0
 */
export * as ResultStore from "./ResultStore.ts"

/**
 * @since 0.1.0
 */
export * as RunError from "./RunError.ts"

/**
 * @since 0.2.0
 */
export * as RunLog from "./RunLog.ts"

/**
 * @since 0.1.0
 */
export * as Serializer from "./Serializer.ts"

/**
 * @since 0.1.0
 */
export * as State from "./State.ts"

/**
 * @since 0.1.0
 */
export * as StateDetails from "./StateDetails.ts"

/**
 * @since 0.1.0
 */
export * as StateGroup from "./StateGroup.ts"

/**
 * @since 0.1.0
 */
export * as StateResult from "./StateResult.ts"

/**
 * @since 0.1.0
 */
export * as StateType from "./StateType.ts"

/**
 * @since 0.1.0
 */
export * as Wire from "./Wire.ts"
