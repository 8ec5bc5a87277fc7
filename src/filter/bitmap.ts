/**
 * The only file that imports `roaring`: a small wrapper over a 32-bit roaring bitmap of doc ords, used for
 * per-segment deletes (and later metadata filters). Kernels never touch roaring directly; they take a dense
 * bitset `Uint32Array` (bit `ord` of word `ord >>> 5`) from `toDenseBitset` or keep one in step with `add`.
 *
 * Serialised form: roaring's portable format (`serialize(true)`), readable by other roaring implementations.
 */
import roaring from 'roaring';

const { RoaringBitmap32 } = roaring;
type Roaring = InstanceType<typeof RoaringBitmap32>;

/** A set of u32 ords. */
export class OrdBitmap {
  private readonly bits: Roaring;

  private constructor(bits: Roaring) {
    this.bits = bits;
  }

  /** An empty bitmap. */
  static create(): OrdBitmap {
    return new OrdBitmap(new RoaringBitmap32());
  }

  /** A bitmap holding `ords`. */
  static fromOrds(ords: ArrayLike<number>): OrdBitmap {
    return new OrdBitmap(new RoaringBitmap32(Array.from(ords)));
  }

  /** Parses the portable serialised form; throws (a plain Error) on malformed bytes. */
  static deserialize(bytes: Uint8Array): OrdBitmap {
    return new OrdBitmap(RoaringBitmap32.deserialize(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), true));
  }

  /** Adds `ord`; returns true when it was not present. */
  add(ord: number): boolean {
    return this.bits.tryAdd(ord);
  }

  has(ord: number): boolean {
    return this.bits.has(ord);
  }

  get size(): number {
    return this.bits.size;
  }

  /** The ords ascending. */
  toArray(): Uint32Array {
    return this.bits.toUint32Array();
  }

  clone(): OrdBitmap {
    return new OrdBitmap(this.bits.clone());
  }

  /** Portable serialised bytes. */
  serialize(): Uint8Array {
    const b = this.bits.serialize(true);
    return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
  }

  /** A dense bitset of `ceil(n/32)` words with bit `ord` set for each member `< n`. */
  toDenseBitset(n: number): Uint32Array {
    const out = new Uint32Array((n + 31) >>> 5);
    const ords = this.bits.toUint32Array();
    for (let i = 0; i < ords.length; i++) {
      const o = ords[i];
      if (o < n) out[o >>> 5] |= 1 << (o & 31);
    }
    return out;
  }
}

/** Sets bit `ord` in a dense bitset. */
export function setBit(bitset: Uint32Array, ord: number): void {
  bitset[ord >>> 5] |= 1 << (ord & 31);
}

/** Whether bit `ord` is set in a dense bitset. */
export function hasBit(bitset: Uint32Array, ord: number): boolean {
  return (bitset[ord >>> 5] & (1 << (ord & 31))) !== 0;
}
