/**
 * Little-endian byte layouts as tables of `{ off, size }`, scalar readers/writers over a DataView,
 * and a table-driven codec (object ⇄ bytes) for cold-path structures: Identify data, log pages.
 * All NVMe data structures are little endian (NVMe Base 1.4 §1.5, Conventions).
 */

/**
 * How a field's bytes are interpreted: `uint` (default) is a little-endian unsigned integer, a `number`
 * up to 6 bytes and a `bigint` for 8 or 16; `ascii` is space padded (SN, MN, FR); `nqn` is
 * NUL terminated and NUL padded (SUBNQN); `bytes` is opaque (NGUID, EUI64, FGUID).
 */
export type FieldKind = 'uint' | 'ascii' | 'nqn' | 'bytes';

/** One field of a byte layout: byte offset, width in bytes, optional kind and element count (arrays). */
export interface FieldLayout {
  readonly off: number;
  readonly size: number;
  readonly kind?: FieldKind;
  readonly count?: number;
}

/** A byte layout: field name (spec acronym) → placement. */
export type Layout = Readonly<Record<string, FieldLayout>>;

/** `ERROR_COUNT` → `errorCount`, `VID` → `vid`, `TMT1_TOTAL_TIME` → `tmt1TotalTime`. */
export type CamelCase<S extends string> = S extends `${infer H}_${infer T}`
  ? `${Lowercase<H>}${Capitalize<CamelCase<T>>}`
  : Lowercase<S>;

type ScalarValue<F extends FieldLayout> = F extends { readonly kind: 'ascii' | 'nqn' }
  ? string
  : F extends { readonly kind: 'bytes' }
    ? Uint8Array
    : F extends { readonly size: 8 | 16 }
      ? bigint
      : number;

type FieldValue<F extends FieldLayout> = F extends { readonly count: number } ? ScalarValue<F>[] : ScalarValue<F>;

/** The object form of a layout: one camelCase property per field. */
export type StructValues<L extends Layout> = {
  -readonly [K in keyof L & string as CamelCase<K>]: FieldValue<L[K]>;
};

/** Input for encoding: any subset of the fields; absent fields and array tails are written as zero. */
export type StructInit<L extends Layout> = {
  readonly [K in keyof StructValues<L>]?: StructValues<L>[K] extends (infer E)[] ? readonly E[] : StructValues<L>[K];
};

/** Bits per byte. */
const BYTE_BITS = 8;
/** Largest `uint` width read as a number: 6 bytes = 48 bits, below 2^53. */
const MAX_NUMBER_BYTES = 6;
/** Size of a u64 and of each half of a u128. */
const U64_BYTES = 8;
/** Size of a u128. */
const U128_BYTES = 16;
/** Printable ASCII, the only characters allowed in NVMe ASCII string fields (NVMe Base 1.4 §1.5). */
const ASCII_FIRST = 0x20;
const ASCII_LAST = 0x7e;
/** Pad byte of ASCII string fields. */
export const ASCII_SPACE = 0x20;
/** Pad and terminator byte of NUL-terminated strings (NQNs). */
export const ASCII_NUL = 0x00;

/** Size of a dword, the unit of command dwords (CDWn is at byte 4n) and of many fields. */
export const DWORD_BYTES = 4;

/** A DataView over exactly the bytes of `bytes` (which may be a window into a larger buffer). */
export function viewOf(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/**
 * Runs `write(view, base)` on `into` at `offset`, or on a fresh zeroed buffer of `size` bytes when
 * `into` is absent, and returns the buffer written. The shared shape of `encodeSqe`, `encodeCqe`, ….
 */
export function encodeWith(
  size: number,
  write: (view: DataView, base: number) => void,
  into?: Uint8Array,
  offset = 0,
): Uint8Array {
  const bytes = into ?? new Uint8Array(size);
  write(viewOf(bytes), into ? offset : 0);
  return bytes;
}

/** Reads a little-endian unsigned integer of `size` bytes (1..6) as a number. */
export function readUint(view: DataView, off: number, size: number): number {
  switch (size) {
    case 1:
      return view.getUint8(off);
    case 2:
      return view.getUint16(off, true);
    case 4:
      return view.getUint32(off, true);
    default: {
      if (size > MAX_NUMBER_BYTES) throw new RangeError(`readUint: ${size} bytes do not fit a number`);
      let value = 0;
      for (let i = size - 1; i >= 0; i--) value = value * 2 ** BYTE_BITS + view.getUint8(off + i);
      return value;
    }
  }
}

/** Writes `value` as a little-endian unsigned integer of `size` bytes (1..6); throws if it does not fit. */
export function writeUint(view: DataView, off: number, size: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** (BYTE_BITS * size) || size > MAX_NUMBER_BYTES) {
    throw new RangeError(`writeUint: ${value} does not fit ${size} bytes`);
  }
  switch (size) {
    case 1:
      view.setUint8(off, value);
      return;
    case 2:
      view.setUint16(off, value, true);
      return;
    case 4:
      view.setUint32(off, value, true);
      return;
    default: {
      let rest = value;
      for (let i = 0; i < size; i++) {
        view.setUint8(off + i, rest % 2 ** BYTE_BITS);
        rest = Math.floor(rest / 2 ** BYTE_BITS);
      }
    }
  }
}

/** Reads a little-endian 128-bit unsigned integer (SMART counters, TNVMCAP). */
export function readU128(view: DataView, off: number): bigint {
  const lo = view.getBigUint64(off, true);
  const hi = view.getBigUint64(off + U64_BYTES, true);
  return (hi << BigInt(U64_BYTES * BYTE_BITS)) | lo;
}

/** Writes a little-endian 128-bit unsigned integer; throws if `value` is outside [0, 2^128). */
export function writeU128(view: DataView, off: number, value: bigint): void {
  const bits = BigInt(U64_BYTES * BYTE_BITS);
  if (value < 0n || value >> (2n * bits) !== 0n) throw new RangeError(`writeU128: ${value} does not fit 128 bits`);
  view.setBigUint64(off, BigInt.asUintN(Number(bits), value), true);
  view.setBigUint64(off + U64_BYTES, value >> bits, true);
}

/** Reads a u64 (8 bytes) or u128 (16 bytes) little-endian field as a bigint. */
function readBig(view: DataView, off: number, size: number): bigint {
  switch (size) {
    case U64_BYTES:
      return view.getBigUint64(off, true);
    case U128_BYTES:
      return readU128(view, off);
    default:
      throw new RangeError(`no bigint reader for ${size}-byte fields`);
  }
}

function writeBig(view: DataView, off: number, size: number, value: bigint): void {
  switch (size) {
    case U64_BYTES:
      if (value < 0n || BigInt.asUintN(U64_BYTES * BYTE_BITS, value) !== value) {
        throw new RangeError(`write u64: ${value} does not fit 64 bits`);
      }
      view.setBigUint64(off, value, true);
      return;
    case U128_BYTES:
      writeU128(view, off, value);
      return;
    default:
      throw new RangeError(`no bigint writer for ${size}-byte fields`);
  }
}

/**
 * Reads an ASCII string field: stops at the first NUL, drops trailing spaces (the pad of SN/MN/FR).
 */
export function readAscii(view: DataView, off: number, len: number): string {
  let text = '';
  for (let i = 0; i < len; i++) {
    const c = view.getUint8(off + i);
    if (c === ASCII_NUL) break;
    text += String.fromCharCode(c);
  }
  return text.trimEnd();
}

/**
 * Writes `text` into a `len`-byte string field, padded with `pad` (space by default, as the spec
 * requires for SN, MN and FR). Throws if the text is longer than the field or not printable ASCII.
 */
export function writeAscii(view: DataView, off: number, len: number, text: string, pad: number = ASCII_SPACE): void {
  if (text.length > len) throw new RangeError(`writeAscii: "${text}" is longer than ${len} bytes`);
  for (let i = 0; i < len; i++) {
    const c = i < text.length ? text.charCodeAt(i) : pad;
    if (i < text.length && (c < ASCII_FIRST || c > ASCII_LAST)) {
      throw new RangeError(`writeAscii: "${text}" is not printable ASCII`);
    }
    view.setUint8(off + i, c);
  }
}

type Scalar = number | bigint | string | Uint8Array;

function readScalar(view: DataView, off: number, f: FieldLayout): Scalar {
  switch (f.kind ?? 'uint') {
    case 'ascii':
    case 'nqn':
      return readAscii(view, off, f.size);
    case 'bytes':
      return new Uint8Array(view.buffer, view.byteOffset + off, f.size).slice();
    default:
      return f.size > MAX_NUMBER_BYTES ? readBig(view, off, f.size) : readUint(view, off, f.size);
  }
}

function writeScalar(view: DataView, off: number, f: FieldLayout, value: Scalar): void {
  if (typeof value === 'string') {
    // An NQN keeps at least one NUL: its terminator.
    const room = f.kind === 'nqn' ? f.size - 1 : f.size;
    if (value.length > room) throw new RangeError(`string "${value}" does not fit ${room} bytes`);
    writeAscii(view, off, f.size, value, f.kind === 'nqn' ? ASCII_NUL : ASCII_SPACE);
  } else if (value instanceof Uint8Array) {
    if (value.length > f.size) throw new RangeError(`${value.length} bytes do not fit a ${f.size}-byte field`);
    new Uint8Array(view.buffer, view.byteOffset + off, f.size).fill(0).set(value);
  } else if (typeof value === 'bigint') {
    writeBig(view, off, f.size, value);
  } else {
    writeUint(view, off, f.size, value);
  }
}

/** Runtime twin of {@link CamelCase}. */
export function camelCase(name: string): string {
  return name.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** A codec between a layout's bytes and its object form. */
export interface StructCodec<L extends Layout> {
  /** The layout table. */
  readonly layout: L;
  /** Size of the whole structure in bytes (reserved bytes included). */
  readonly size: number;
  /** Decodes the structure at `view[base]`. */
  read(view: DataView, base: number): StructValues<L>;
  /** Writes the given fields at `view[base]`; other bytes are left untouched. */
  write(view: DataView, base: number, values: StructInit<L>): void;
  /** A fresh zeroed buffer of `size` bytes holding the given fields. */
  encode(values: StructInit<L>): Uint8Array<ArrayBuffer>;
  /** Decodes the structure at `bytes[offset]`. */
  decode(bytes: Uint8Array, offset?: number): StructValues<L>;
  /** Writes consecutive structures (an array of entries) from `view[base]`. */
  writeMany(view: DataView, base: number, list: readonly StructInit<L>[]): void;
  /** Reads `count` consecutive structures from `view[base]`. */
  readMany(view: DataView, base: number, count: number): StructValues<L>[];
  /** A fresh buffer of `list.length × size` bytes holding the entries back to back. */
  encodeMany(list: readonly StructInit<L>[]): Uint8Array<ArrayBuffer>;
  /** Decodes `count` consecutive entries (default: every whole entry in `bytes`). */
  decodeMany(bytes: Uint8Array, count?: number): StructValues<L>[];
}

/** Builds the codec of a layout. Field names become camelCase properties; arrays have `count` elements. */
export function defineStruct<const L extends Layout>(size: number, layout: L): StructCodec<L> {
  const fields = Object.entries(layout).map(([name, f]) => ({ key: camelCase(name), f }));
  const codec: StructCodec<L> = {
    layout,
    size,
    read(view, base) {
      const out: Record<string, Scalar | Scalar[]> = {};
      for (const { key, f } of fields) {
        out[key] =
          f.count === undefined
            ? readScalar(view, base + f.off, f)
            : Array.from({ length: f.count }, (_, i) => readScalar(view, base + f.off + i * f.size, f));
      }
      return out as StructValues<L>;
    },
    write(view, base, values) {
      const input = values as Readonly<Record<string, Scalar | readonly Scalar[] | undefined>>;
      for (const { key, f } of fields) {
        const value = input[key];
        if (value === undefined) continue;
        if (Array.isArray(value)) {
          if (f.count === undefined || value.length > f.count) throw new RangeError(`${key}: too many elements`);
          value.forEach((v: Scalar, i) => {
            writeScalar(view, base + f.off + i * f.size, f, v);
          });
        } else {
          writeScalar(view, base + f.off, f, value as Scalar);
        }
      }
    },
    encode(values) {
      const bytes = new Uint8Array(size);
      codec.write(viewOf(bytes), 0, values);
      return bytes;
    },
    decode(bytes, offset = 0) {
      return codec.read(viewOf(bytes), offset);
    },
    writeMany(view, base, list) {
      list.forEach((values, i) => {
        codec.write(view, base + i * size, values);
      });
    },
    readMany(view, base, count) {
      return Array.from({ length: count }, (_, i) => codec.read(view, base + i * size));
    },
    encodeMany(list) {
      const bytes = new Uint8Array(list.length * size);
      codec.writeMany(viewOf(bytes), 0, list);
      return bytes;
    },
    decodeMany(bytes, count = Math.floor(bytes.length / size)) {
      return codec.readMany(viewOf(bytes), 0, count);
    },
  };
  return codec;
}
