/**
 * Pattern data for case files: byte `i` of pattern `seed` depends on (seed, i) alone, so a case
 * names any slice of it by seed and offset instead of carrying the bytes (a 513-page write is
 * `{ "pattern": 7 }`, not 2 MB of hex). Each 32-bit little-endian word is a hash of the seed and
 * the word's index (the 32-bit finalizer of MurmurHash3).
 */

const WORD = 4;
const MIX1 = 0x85eb_ca6b;
const MIX2 = 0xc2b2_ae35;
/** Golden-ratio increment: spreads consecutive word indexes before mixing. */
const SPREAD = 0x9e37_79b9;

/** Whether this machine stores a 32-bit word least significant byte first (every Node platform in use). */
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;

/** Word `index` of pattern `seed`. */
function patternWord(seed: number, index: number): number {
  let h = (seed ^ Math.imul(index + 1, SPREAD)) >>> 0;
  h ^= h >>> 16;
  h = Math.imul(h, MIX1);
  h ^= h >>> 13;
  h = Math.imul(h, MIX2);
  h ^= h >>> 16;
  return h >>> 0;
}

/** Fills `into` with bytes [offset, offset + into.length) of pattern `seed`. */
export function fillPattern(into: Uint8Array, seed: number, offset = 0): Uint8Array {
  let i = 0;
  const n = into.length;
  // A leading partial word, then whole words, then a trailing partial word.
  while (i < n && (offset + i) % WORD !== 0) {
    into[i] = patternWord(seed, Math.floor((offset + i) / WORD)) >>> (8 * ((offset + i) % WORD));
    i++;
  }
  if (LITTLE_ENDIAN && (into.byteOffset + i) % WORD === 0) {
    // Whole words as 32-bit stores: a third faster than DataView, and the words are little-endian here.
    const words = new Uint32Array(into.buffer, into.byteOffset + i, (n - i) >>> 2);
    const first = (offset + i) / WORD;
    for (let w = 0; w < words.length; w++) words[w] = patternWord(seed, first + w);
    i += words.length * WORD;
  } else {
    const view = new DataView(into.buffer, into.byteOffset, into.byteLength);
    for (; i + WORD <= n; i += WORD) view.setUint32(i, patternWord(seed, (offset + i) / WORD), true);
  }
  for (; i < n; i++) into[i] = patternWord(seed, Math.floor((offset + i) / WORD)) >>> (8 * ((offset + i) % WORD));
  return into;
}

/** Bytes [offset, offset + length) of pattern `seed`. */
export function patternSlice(seed: number, length: number, offset = 0): Uint8Array {
  return fillPattern(new Uint8Array(length), seed, offset);
}

/** Pattern prefixes kept for {@link patternView}, in bytes at most (a case names a few seeds, each several times). */
const KEPT_PATTERN_BYTES = 4 * 1024 * 1024;
const keptPatterns = new Map<number, Uint8Array>();
let keptBytes = 0;

/**
 * Bytes [offset, offset + length) of pattern `seed`, read only: a view of a kept prefix of the
 * pattern, so that the case builder, the replay's write and the replay's check fill it once.
 */
export function patternView(seed: number, length: number, offset = 0): Uint8Array {
  const end = offset + length;
  if (end > KEPT_PATTERN_BYTES) return patternSlice(seed, length, offset);
  let kept = keptPatterns.get(seed);
  if (kept === undefined || kept.length < end) {
    const size = Math.min(KEPT_PATTERN_BYTES, Math.max(end, 2 * (kept?.length ?? 0)));
    if (keptBytes + size > KEPT_PATTERN_BYTES) {
      keptPatterns.clear();
      keptBytes = 0;
    } else if (kept !== undefined) keptBytes -= kept.length;
    // Unzeroed memory: the fill writes every byte.
    kept = fillPattern(new Uint8Array(Buffer.allocUnsafeSlow(size).buffer, 0, size), seed);
    keptPatterns.set(seed, kept);
    keptBytes += size;
  }
  return kept.subarray(offset, end);
}
