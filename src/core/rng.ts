/**
 * Seeded pseudo-random numbers for index builds and synthetic data. Same seed ⇒ same sequence on every platform
 * (pure 32-bit integer arithmetic, no Math.random), which is what makes Seismic builds byte-identical for a seed.
 * Generator: sfc32 (small fast counter), seeded through splitmix32 so nearby seeds give unrelated streams.
 * The project's one random-number generator: a failing crash, mixed or fuzz run replays with the same seed too
 * (timing still varies, the choices do not).
 * Callers: src/seismic/ (centroid sampling, calibration), src/eval/synthetic.ts (collections and queries), the
 * harnesses in test/support/ and bench/, tests.
 */

/** A seeded sfc32 generator. Not cryptographic. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** `seed` is any integer (taken modulo 2^32). */
  constructor(seed: number) {
    let s = seed >>> 0;
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.nextU32();
  }

  /** Uniform integer in [0, 2^32). */
  nextU32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** Uniform float in [0, 1). */
  next(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). `n` ≤ 2^32. */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  /** `k` distinct elements of `items` (k ≤ items.length), in random order (partial Fisher–Yates). */
  sample<T>(items: readonly T[], k: number): T[] {
    const copy = items.slice();
    for (let i = 0; i < k; i++) {
      const j = i + this.int(copy.length - i);
      [copy[i], copy[j]] = [copy[j], copy[i]];
    }
    return copy.slice(0, k);
  }

  /** Standard normal (Box–Muller; one value per call, the pair's second half is discarded). */
  normal(): number {
    let u = this.next();
    if (u < 1e-12) u = 1e-12;
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** Derives an independent generator (e.g. one per posting list) from this one and a salt. */
  static derive(seed: number, salt: number): Rng {
    return new Rng((Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(salt >>> 0, 0x85ebca77)) >>> 0);
  }
}
