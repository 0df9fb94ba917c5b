// Counting the line feeds of a read buffer: the bound on records by which a load sizes its columns before reading
// (`countLines` in ./csv-reader.ts reads a file through it).

const LF = 10;

/**
 * Line feeds among bytes[0, n). Long lines (flow records of ~80 columns, ~600 bytes) are stepped over with one indexOf
 * per line: native, and no heap number while V8 still interprets this function (CIC-IDS2017: ~5x less CPU in a fresh
 * process, and up to ~0.9 MB less young garbage). Short lines (KDD's ~145 bytes) are counted four bytes at a time (SWAR,
 * "Determine if a word has a zero byte" in Sean Anderson's Bit Twiddling Hacks): in each byte of w = word ^ 0x0A0A0A0A,
 * ~(((w & 0x7F7F7F7F) + 0x7F7F7F7F) | w | 0x7F7F7F7F) sets the top bit exactly when the byte is zero (no carry crosses
 * a byte); counts add up per byte lane, emptied every 255 words. The first 8 lines decide.
 */
export function lineFeedsIn(bytes: Uint8Array, n: number): number {
  // indexOf searches the whole buffer and the result is bounded by n (a subarray per call was young garbage).
  let lines = 0;
  let at = -1;
  for (; lines < 8; lines++) {
    at = bytes.indexOf(LF, at + 1);
    if (at < 0 || at >= n) return lines;
  }
  if (at >= 8 * LONG_LINE_BYTES) {
    for (at = bytes.indexOf(LF, at + 1); at >= 0 && at < n; at = bytes.indexOf(LF, at + 1)) lines++;
    return lines;
  }
  let i = at + 1;
  for (; i < n && (bytes.byteOffset + i) % 4 !== 0; i++) if (bytes[i] === LF) lines++;
  if (i >= n) return lines; // no aligned word left (an Int32Array view may not start off a 4-byte boundary)
  const words = new Int32Array(bytes.buffer, bytes.byteOffset + i, (n - i) >> 2);
  let lanes = 0;
  let wordsInLanes = 0;
  for (let w = 0; w < words.length; w++) {
    const x = words[w] ^ 0x0a0a0a0a;
    const zero = ~((((x & 0x7f7f7f7f) + 0x7f7f7f7f) | 0) | x | 0x7f7f7f7f);
    lanes = (lanes + ((zero >>> 7) & 0x01010101)) | 0;
    if (++wordsInLanes === 255) {
      lines += laneSum(lanes);
      lanes = 0;
      wordsInLanes = 0;
    }
  }
  lines += laneSum(lanes);
  for (i += words.length << 2; i < n; i++) if (bytes[i] === LF) lines++;
  return lines;
}

/** Mean line length from which the line count steps from line feed to line feed instead of testing every word. */
export const LONG_LINE_BYTES = 256;

/** The four byte lanes of a word, added. */
function laneSum(lanes: number): number {
  return (lanes & 0xff) + ((lanes >>> 8) & 0xff) + ((lanes >>> 16) & 0xff) + (lanes >>> 24);
}
