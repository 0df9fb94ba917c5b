// ISCX-IDS2012 (Shiravi et al., Computers & Security 2012) labelled flows: TestbedXXXFlows.xml files, one element per
// flow (e.g. <TestbedMonJun14Flows>) holding appName, byte and packet totals, payloads (base64 and UTF), direction,
// TCP flag descriptions, source/destination address and port, protocolName, start/stop times and Tag
// (Normal/Attack). Payloads are not features; addresses, source port and times are identifiers.

import type { ColumnPlan, DatasetFormat } from './schema.js';

const COLUMNS: readonly ColumnPlan[] = (
  [
    ['appName', 'feature', 'categorical'],
    ['totalSourceBytes', 'feature', 'numeric'],
    ['totalDestinationBytes', 'feature', 'numeric'],
    ['totalDestinationPackets', 'feature', 'numeric'],
    ['totalSourcePackets', 'feature', 'numeric'],
    ['sourcePayloadAsBase64', 'payload', 'categorical'],
    ['sourcePayloadAsUTF', 'payload', 'categorical'],
    ['destinationPayloadAsBase64', 'payload', 'categorical'],
    ['destinationPayloadAsUTF', 'payload', 'categorical'],
    ['direction', 'feature', 'categorical'],
    ['sourceTCPFlagsDescription', 'feature', 'categorical'],
    ['destinationTCPFlagsDescription', 'feature', 'categorical'],
    ['source', 'identifier', 'categorical'],
    ['protocolName', 'feature', 'categorical'],
    ['sourcePort', 'identifier', 'numeric'],
    ['destination', 'identifier', 'categorical'],
    ['destinationPort', 'feature', 'numeric'],
    ['startDateTime', 'identifier', 'categorical'],
    ['stopDateTime', 'identifier', 'categorical'],
    ['Tag', 'label', 'categorical'],
  ] as const
).map(([name, role, kind]) => ({ name, fileName: name, role, kind }));

export const iscx2012: DatasetFormat = {
  name: 'iscx2012',
  title: 'ISCX-IDS2012 labelled flows (XML)',
  xml: true,
  multiFile: true,
  detect: (peek) => (/^\s*</.test(peek.head) && /<Testbed\w*|<Tag>/.test(peek.head) ? 1 : 0),
  plan: () => ({ hasHeader: false, columns: COLUMNS }),
  normaliseLabel: (label) => label.trim(),
  isNormal: (label) => label.toLowerCase() === 'normal',
  categoryOf: (label) => (label.toLowerCase() === 'normal' ? 'normal' : 'Attack'),
};
