// Node's timers (setTimeout, execFile's timeout) fire at once for a delay of 2^31 ms or more, with a
// TimeoutOverflowWarning: options that become such a delay are bounded by this.

/** The longest delay a Node timer keeps, in milliseconds (about 24.8 days). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
