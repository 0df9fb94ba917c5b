// Text of IP addresses, shared by the packet decoder (src/flows/decode) and the flow-export collector
// (src/io/netflow), so one flow gets the same address text from a capture and from NetFlow/IPFIX.

/**
 * RFC 5952 text of an IPv6 address given as its eight 16-bit groups: lower-case hex, the longest run (≥ 2) of zero
 * groups (the first on ties) as "::", and an IPv4-mapped address (::ffff:a.b.c.d) with its IPv4 part dotted (§5).
 */
export function ipv6GroupsText(groups: ArrayLike<number>): string {
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = Array.from(groups, (g) => g.toString(16));
  if (bestStart === 0 && bestLen === 5 && groups[5] === 0xffff) {
    const [g6, g7] = [groups[6]!, groups[7]!];
    return `::ffff:${g6 >>> 8}.${g6 & 255}.${g7 >>> 8}.${g7 & 255}`;
  }
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}
