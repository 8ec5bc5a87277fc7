/**
 * Cooperative time slicing for long CPU loops on the event loop (validating, analyzing and storing a 10,000-doc
 * upsert, a batch of text searches): `due()` is true once `sliceMs` have passed since the slice began, and
 * `yield()` lets one turn of the event loop run (timers, I/O: `/health`, small searches) before starting a new
 * slice. Measured by elapsed time, not by item count, because items range from 10 bytes to 1 MiB of text.
 * One slicer per operation; callers: Collection.upsert, the lexical text binding, batch search, /v1/encode.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';

/** Default slice: short enough that a probe waits a few ms, long enough that yields cost < 1% (~20 µs each). */
export const DEFAULT_SLICE_MS = 8;

export class TimeSlicer {
  private sliceStart = performance.now();

  constructor(private readonly sliceMs = DEFAULT_SLICE_MS) {}

  /** Whether the current slice has used its time (cheap: one clock read). */
  due(): boolean {
    return performance.now() - this.sliceStart >= this.sliceMs;
  }

  /** Lets the event loop run once, then starts a new slice. */
  async yield(): Promise<void> {
    await nextTurn();
    this.sliceStart = performance.now();
  }
}
