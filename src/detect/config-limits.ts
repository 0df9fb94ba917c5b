// Bounds of `detect` / `serve` settings that the command-line parsers and the config schema (src/serve/config.ts)
// both apply. Kept apart from the schema, which loads zod: the parsers run before any configuration is read.

/** Most packets of a flow before its early verdict (--early-packets, earlyPackets). */
export const MAX_EARLY_PACKETS = 10_000;

/** Longest alert aggregation window in seconds, one day (--aggregation-window, aggregationWindowS). */
export const MAX_AGGREGATION_WINDOW_S = 86_400;
