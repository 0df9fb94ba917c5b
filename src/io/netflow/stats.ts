// Counters shared by the NetFlow v5 / v9 / IPFIX decoders. Nothing a decoder meets is thrown: a datagram whose
// header or set framing is broken is dropped whole and counted under `malformed` by reason; a bad template or record
// inside an otherwise sound datagram is skipped and counted under `skipped` by reason.

export class DecodeStats {
  datagrams = 0;
  /** Flow records decoded. */
  records = 0;
  /**
   * Flow records with no time that could be placed on the calendar (sysUpTime times from an IPFIX exporter that never
   * sent systemInitTimeMilliseconds, or no time field at all): kept, ending at the message's export time.
   */
  recordsWithoutAbsoluteTime = 0;
  /** Options data records (exporter metadata, not flows). */
  optionsRecords = 0;
  templates = 0;
  optionsTemplates = 0;
  withdrawals = 0;
  /** Datagrams dropped whole, by reason. */
  readonly malformed: Record<string, number> = {};
  /** Parts of good datagrams skipped, by reason. */
  readonly skipped: Record<string, number> = {};

  drop(reason: string): false {
    this.malformed[reason] = (this.malformed[reason] ?? 0) + 1;
    return false;
  }

  skip(reason: string, n = 1): void {
    this.skipped[reason] = (this.skipped[reason] ?? 0) + n;
  }

  get malformedTotal(): number {
    let n = 0;
    for (const k in this.malformed) n += this.malformed[k];
    return n;
  }
}
