/**
 * What the engine reports as it works, for metrics (server/metrics.ts subscribes through
 * `SpladexService.addObserver`): documents indexed per upsert, WAL group-commit latency, seal and merge durations.
 * Durations in seconds. Emitted by spladex-service.ts (from each store's StoreObserver).
 */
export type EngineEvent =
  | { kind: 'indexed'; collection: string; documents: number }
  | { kind: 'walSync'; collection: string; seconds: number }
  | { kind: 'seal'; collection: string; seconds: number; documents: number }
  | { kind: 'merge'; collection: string; seconds: number; documents: number };

/** A subscriber; it must not throw (a throwing one is ignored). */
export type EngineObserver = (event: EngineEvent) => void;
