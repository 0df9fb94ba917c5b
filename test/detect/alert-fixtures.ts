// Builds alerts for detection tests.

import type { Alert } from '../../src/detect/alert.js';

export function makeAlert(overrides: Partial<Alert> & { src?: string } = {}): Alert {
  const { src, ...rest } = overrides;
  return {
    id: 'a1',
    timeMs: 1_700_000_000_000,
    flowStartMs: 1_700_000_000_000 - 500,
    flowEndMs: 1_700_000_000_000,
    flow: { srcAddr: src ?? '10.0.0.1', dstAddr: '10.0.0.2', srcPort: 40000, dstPort: 80, protocol: 6, vlan: 0 },
    model: { name: 'rf', version: '0.1.0', file: 'm.fsm' },
    score: 0.9,
    threshold: 0.5,
    label: 'attack',
    category: 'DoS',
    stage: 'final',
    packets: 10,
    explanation: [{ feature: 'Flow Duration', value: 5, contribution: 0.3, normalRange: [0, 1] }],
    count: 1,
    lastSeenMs: 1_700_000_000_000,
    ...rest,
  };
}
