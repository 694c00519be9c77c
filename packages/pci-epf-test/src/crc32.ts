/** The reflected CRC-32 (polynomial 0xEDB88320) of lib/crc32.c, as `crc32_le(seed, buf, len)`. */
const POLY = 0xedb8_8320;
const BYTE_VALUES = 256;
const BITS = 8;

const TABLE = (() => {
  const t = new Uint32Array(BYTE_VALUES);
  for (let n = 0; n < BYTE_VALUES; n++) {
    let c = n;
    for (let k = 0; k < BITS; k++) c = c & 1 ? POLY ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/**
 * `crc32_le(seed, bytes, len)`: no final inversion, as the kernel's. The endpoint test function and
 * its host driver both call it with seed ~0 and compare the raw results.
 */
export function crc32Le(seed: number, bytes: Uint8Array): number {
  let c = seed >>> 0;
  for (let i = 0; i < bytes.length; i++) c = (TABLE[(c ^ (bytes[i] as number)) & 0xff] as number) ^ (c >>> BITS);
  return c >>> 0;
}

/** The checksum both sides of the test compute over a buffer. */
export function testChecksum(bytes: Uint8Array): number {
  return crc32Le(0xffff_ffff, bytes);
}
