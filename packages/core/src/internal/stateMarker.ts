/**
 * A constructor whose `prototype` is the prototype every state shares (set by
 * `State` when it loads), so that `x instanceof StateMarker` tells a state in
 * a few pointer loads. Loops over many states (`StateGroup`) write the check
 * out themselves rather than calling `State.isState`: V8 keeps type feedback
 * per function, and `isState`'s feedback is shared by every caller (and every
 * kind of value they pass), while a loop's own `instanceof` site sees states
 * only.
 */
export function StateMarker(): void {}
