// Bounds and forms of `detect` / `serve` settings that the command-line parsers, the config schema
// (src/serve/config.ts) and the sources (src/detect/sources.ts) apply. Kept apart from the schema, which loads zod: the parsers run before any configuration is read.

/** Most packets of a flow before its early verdict (--early-packets, earlyPackets). */
export const MAX_EARLY_PACKETS = 10_000;

/** Longest alert aggregation window in seconds, one day (--aggregation-window, aggregationWindowS). */
export const MAX_AGGREGATION_WINDOW_S = 86_400;

/** A NetFlow listen address, udp://HOST:PORT (an IPv6 host in brackets): the host and the port's digits. */
export const NETFLOW_LISTEN = /^udp:\/\/(\[[^\]]+\]|[^:/]+):(\d+)$/;

/** Largest UDP or TCP port; a socket would take a larger one modulo 65536 (99999 listened on 34463). */
export const MAX_PORT = 65_535;
