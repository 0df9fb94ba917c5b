// Information elements the collector understands, numbered as in the IANA "IP Flow Information Export (IPFIX)
// Entities" registry (RFC 7012, formerly RFC 5102; NetFlow v9 field types of RFC 3954 §8 share the numbers 1-127).
// Reverse (biflow) elements are the same numbers under private enterprise 29305 (RFC 5103 §6.1).
// Each element maps to a slot of the record being decoded; every other element is skipped by its length.

/** Private enterprise number that marks RFC 5103 reverse information elements. */
export const REVERSE_PEN = 29305;

/** Variable-length marker in a field specifier (RFC 7011 §7). */
export const VARIABLE_LENGTH = 65535;

/** Slots of the per-record scratch array filled while decoding a data record. */
export const enum Slot {
  SrcIPv4 = 0,
  DstIPv4,
  SrcIPv6,
  DstIPv6,
  SrcPort,
  DstPort,
  Protocol,
  TcpFlags,
  Octets,
  Packets,
  OctetsTotal,
  PacketsTotal,
  RevOctets,
  RevPackets,
  RevTcpFlags,
  Vlan,
  Dot1qVlan,
  StartSysUp,
  EndSysUp,
  StartSeconds,
  EndSeconds,
  StartMs,
  EndMs,
  StartNtp,
  EndNtp,
  StartDeltaUs,
  EndDeltaUs,
  SysInitMs,
  EndReason,
  RevOctetsTotal,
  RevPacketsTotal,
  Count,
}

/** Information element numbers used by name in code and tests. */
export const IE = {
  octetDeltaCount: 1,
  packetDeltaCount: 2,
  protocolIdentifier: 4,
  ipClassOfService: 5,
  tcpControlBits: 6,
  sourceTransportPort: 7,
  sourceIPv4Address: 8,
  ingressInterface: 10,
  destinationTransportPort: 11,
  destinationIPv4Address: 12,
  egressInterface: 14,
  flowEndSysUpTime: 21,
  flowStartSysUpTime: 22,
  sourceIPv6Address: 27,
  destinationIPv6Address: 28,
  icmpTypeCodeIPv4: 32,
  vlanId: 58,
  ipVersion: 60,
  flowDirection: 61,
  interfaceName: 82,
  octetTotalCount: 85,
  packetTotalCount: 86,
  flowEndReason: 136,
  icmpTypeCodeIPv6: 139,
  meteringProcessId: 143,
  flowStartSeconds: 150,
  flowEndSeconds: 151,
  flowStartMilliseconds: 152,
  flowEndMilliseconds: 153,
  flowStartMicroseconds: 154,
  flowEndMicroseconds: 155,
  flowStartNanoseconds: 156,
  flowEndNanoseconds: 157,
  flowStartDeltaMicroseconds: 158,
  flowEndDeltaMicroseconds: 159,
  systemInitTimeMilliseconds: 160,
  dot1qVlanId: 243,
} as const;

const STANDARD = new Int8Array(256).fill(-1);
const REVERSE = new Int8Array(256).fill(-1);
const mapping: [number, Slot][] = [
  [IE.sourceIPv4Address, Slot.SrcIPv4],
  [IE.destinationIPv4Address, Slot.DstIPv4],
  [IE.sourceIPv6Address, Slot.SrcIPv6],
  [IE.destinationIPv6Address, Slot.DstIPv6],
  [IE.sourceTransportPort, Slot.SrcPort],
  [IE.destinationTransportPort, Slot.DstPort],
  [IE.protocolIdentifier, Slot.Protocol],
  [IE.tcpControlBits, Slot.TcpFlags],
  [IE.octetDeltaCount, Slot.Octets],
  [IE.packetDeltaCount, Slot.Packets],
  [IE.octetTotalCount, Slot.OctetsTotal],
  [IE.packetTotalCount, Slot.PacketsTotal],
  [IE.vlanId, Slot.Vlan],
  [IE.dot1qVlanId, Slot.Dot1qVlan],
  [IE.flowStartSysUpTime, Slot.StartSysUp],
  [IE.flowEndSysUpTime, Slot.EndSysUp],
  [IE.flowStartSeconds, Slot.StartSeconds],
  [IE.flowEndSeconds, Slot.EndSeconds],
  [IE.flowStartMilliseconds, Slot.StartMs],
  [IE.flowEndMilliseconds, Slot.EndMs],
  [IE.flowStartMicroseconds, Slot.StartNtp],
  [IE.flowEndMicroseconds, Slot.EndNtp],
  [IE.flowStartNanoseconds, Slot.StartNtp],
  [IE.flowEndNanoseconds, Slot.EndNtp],
  [IE.flowStartDeltaMicroseconds, Slot.StartDeltaUs],
  [IE.flowEndDeltaMicroseconds, Slot.EndDeltaUs],
  [IE.systemInitTimeMilliseconds, Slot.SysInitMs],
  [IE.flowEndReason, Slot.EndReason],
];
for (const [id, slot] of mapping) STANDARD[id] = slot;
REVERSE[IE.octetDeltaCount] = Slot.RevOctets;
REVERSE[IE.packetDeltaCount] = Slot.RevPackets;
REVERSE[IE.tcpControlBits] = Slot.RevTcpFlags;
REVERSE[IE.octetTotalCount] = Slot.RevOctetsTotal;
REVERSE[IE.packetTotalCount] = Slot.RevPacketsTotal;

/** Expected encoded length of each slot's value, 0 when any length up to 8 (reduced-size integers) is fine. */
const SLOT_LENGTH = new Uint8Array(Slot.Count);
SLOT_LENGTH[Slot.SrcIPv4] = 4;
SLOT_LENGTH[Slot.DstIPv4] = 4;
SLOT_LENGTH[Slot.SrcIPv6] = 16;
SLOT_LENGTH[Slot.DstIPv6] = 16;
SLOT_LENGTH[Slot.StartNtp] = 8;
SLOT_LENGTH[Slot.EndNtp] = 8;

/**
 * The slot an element fills, or -1 to skip it. An element sent with a length its type cannot have (an address that
 * is not 4 or 16 bytes, an integer wider than 8 bytes, a variable-length counter) is skipped as well.
 */
export function slotOf(id: number, enterprise: number, length: number): number {
  if (id > 255) return -1;
  const slot = enterprise === 0 ? STANDARD[id] : enterprise === REVERSE_PEN ? REVERSE[id] : -1;
  if (slot < 0) return -1;
  const expected = SLOT_LENGTH[slot];
  if (expected !== 0) return length === expected ? slot : -1;
  return length >= 1 && length <= 8 ? slot : -1;
}
