/**
 * One shard replica hosted by this node: a local collection of the node's SpladexService (named
 * `<collection>_s<shard>`, the existing engine unchanged) fed by an ordered JetStream consumer on the shard's
 * subject, in stream order, one message at a time.
 *
 * Resuming exactly: after a message's documents are durable in the local store (the store acknowledges an upsert
 * after its WAL fsync), the replica writes the message's stream sequence to `<dataDir>/.cluster/<local>.applied`
 * (atomic replacement, fsynced). A restart resumes at applied + 1. A crash between the two writes re-applies one
 * message: upserts replace by id and deletes of absent ids are no-ops, so applying a prefix of the stream twice
 * leaves the same state as once (the applied sequence and the state agree without a shared atomic write; see
 * docs/CLUSTER.md for why not a record inside the engine's WAL). A new replica has no file and replays from 1.
 *
 * `waitApplied(seq)` resolves once the replica has applied `seq` (`?refresh=wait_for`).
 * Created and stopped by cluster-node.ts.
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomic } from '../core/atomic-file.js';
import { SpladexError } from '../core/errors.js';
import type { SpladexService } from '../search/spladex-service.js';
import type { ConsumerHandle, NatsLink, StreamMessage, SubjectHead } from './nats-link.js';
import type { ShardOp } from './wire.js';

/** Messages queued for one apply at most before the consumer waits. */
const MAX_QUEUED = 512;
/** A replica that has applied nothing for this long while its subject has more gets a new consumer, ms. */
const STALL_MS = 2000;
/** Refused patches remembered for the PATCH that waits for them. */
const MAX_REFUSALS = 1000;
/** Documents per store upsert when applying (the service's per-request cap). */
const MAX_APPLY_DOCS = 10_000;

export interface ShardReplicaOptions {
  link: NatsLink;
  local: SpladexService;
  dataDir: string;
  stream: string;
  subject: string;
  localName: string;
  /** The collection config the local collection is created with (the user's body without `cluster`). */
  config: unknown;
  logger: Logger;
}

export class ShardReplica {
  /** Last stream sequence applied to the local store (0: nothing yet). */
  applied = 0;
  /** When JetStream stored the message of `applied` (ms since the epoch; 0: nothing applied). */
  appliedTimeMs = 0;
  /** The shard subject's newest message as last read (`refreshHead`, every heartbeat). */
  head: SubjectHead = { seq: 0, timeMs: 0 };
  /**
   * Whether this replica has reached the log's head since it started (a new replica replaying the stream, or a
   * restarted one catching up, has not): the fan-out prefers caught-up replicas and `wait_for` waits for them.
   */
  caughtUp = false;
  /** Messages of this shard the consumer reported as still to come, at the last delivery. */
  pending = 0;
  /** Documents whose upsert the local collection refused at apply (validated at the accepting node first). */
  rejected = 0;
  /** Why applying stopped (the node restarts the replica at its next reconcile), null while healthy. */
  failed: string | null = null;
  private consumer: ConsumerHandle | null = null;
  private readonly queue: StreamMessage[] = [];
  private draining: Promise<void> | null = null;
  private lastQueued = 0;
  /** When `applied` last moved (or the watchdog last found nothing to do), ms since the epoch. */
  private progressMs = Date.now();
  private checking = false;
  private waiters: { seq: number; resolve: () => void }[] = [];
  /** Refused patch messages by sequence, oldest first (PATCH answers with the refusal). */
  private readonly refusals = new Map<number, { code: string; message: string }>();
  private stopped = false;

  constructor(private readonly o: ShardReplicaOptions) {}

  private get appliedFile(): string {
    return path.join(this.o.dataDir, '.cluster', `${this.o.localName}.applied`);
  }

  /** Opens (or creates) the local collection, reads the applied sequence and starts consuming after it. */
  async start(): Promise<void> {
    const { created } = await this.o.local.createCollection(this.o.localName, this.o.config);
    if (created) await fs.rm(this.appliedFile, { force: true });
    else ({ seq: this.applied, timeMs: this.appliedTimeMs } = await readApplied(this.appliedFile));
    await fs.mkdir(path.dirname(this.appliedFile), { recursive: true });
    await this.refreshHead();
    await this.startConsumer();
    this.o.logger.info({ replica: this.o.localName, applied: this.applied }, 'shard replica consuming');
  }

  private async startConsumer(): Promise<void> {
    this.lastQueued = this.applied;
    this.progressMs = Date.now();
    this.consumer = await this.o.link.consume(this.o.stream, this.o.subject, this.applied + 1, async (m) => {
      // A redelivery (after the client recreated the consumer) repeats sequences already queued or applied.
      if (this.stopped || this.failed !== null || m.seq <= this.lastQueued) return;
      this.lastQueued = m.seq;
      this.queue.push(m);
      this.draining ??= this.drain().finally(() => {
        this.draining = null;
      });
      // Back-pressure: the consumer waits while a full queue is being applied.
      if (this.queue.length >= MAX_QUEUED) await this.draining;
    });
  }

  /**
   * Watchdog, called by the node every heartbeat: when the shard's subject has messages past `applied` and nothing
   * was applied for STALL_MS, the consumer is recreated at applied + 1. Seen in the fault run: after a NATS node
   * was killed, an ordered consumer whose server died stayed silent (the client's own recovery waits for missed
   * heartbeats), leaving a live replica thousands of messages behind.
   */
  async checkProgress(): Promise<void> {
    if (this.stopped || this.failed !== null || this.checking || this.draining !== null) return;
    if (Date.now() - this.progressMs < STALL_MS) return;
    this.checking = true;
    try {
      const last = await this.o.link.lastSeq(this.o.stream, this.o.subject);
      if (last <= this.applied || this.stopped || Date.now() - this.progressMs < STALL_MS) {
        this.progressMs = Date.now();
        return;
      }
      this.o.logger.warn({ replica: this.o.localName, applied: this.applied, last }, 'shard replica stalled; recreating its consumer');
      const old = this.consumer;
      this.consumer = null;
      await old?.stop().catch(() => undefined);
      await this.draining;
      if (!this.stopped) await this.startConsumer();
    } finally {
      this.checking = false;
    }
  }

  /**
   * Applies everything queued, as few store writes as order allows: consecutive upserts become one upsert (up
   * to MAX_APPLY_DOCS documents; a later duplicate id wins, as in stream order), then one write of the applied
   * sequence. Measured on the fault run: one store write and one applied-file write per 20-document message
   * applied ~30 messages/s on the shared 2-core machine; batching what the consumer has buffered removes that wall.
   */
  private async drain(): Promise<void> {
    while (this.queue.length > 0 && !this.stopped && this.failed === null) {
      const batch = this.queue.splice(0, this.queue.length);
      try {
        let docs: unknown[] = [];
        const flush = async () => {
          for (let i = 0; i < docs.length; i += MAX_APPLY_DOCS) await this.apply({ op: 'upsert', docs: docs.slice(i, i + MAX_APPLY_DOCS) });
          docs = [];
        };
        for (const m of batch) {
          const op = JSON.parse(Buffer.from(m.data).toString('utf8')) as ShardOp;
          if (op.op === 'upsert') {
            for (const d of op.docs) docs.push(d);
          } else {
            await flush();
            await this.apply(op, m.seq);
          }
        }
        await flush();
        const last = batch[batch.length - 1];
        await writeFileAtomic(this.appliedFile, `${last.seq}\n${last.timeMs}\n`);
        this.applied = last.seq;
        this.appliedTimeMs = last.timeMs;
        this.pending = last.pending;
        // Nothing left on the subject when the last of these was delivered: at the head of the log.
        if (last.pending === 0 && this.queue.length === 0) this.caughtUp = true;
        this.progressMs = Date.now();
        this.wake();
      } catch (err) {
        // Nothing after a failed message may be applied (order is the contract): stop here; a restart resumes at
        // the first message of the failed batch (re-applying a prefix is harmless, see the file header).
        this.failed = (err as Error).message;
        this.o.logger.error({ replica: this.o.localName, fromSeq: batch[0].seq, err }, 'shard replica stopped applying');
        this.queue.length = 0;
      }
    }
  }

  private async apply(op: ShardOp, seq = 0): Promise<void> {
    if (op.op === 'patch') {
      // Applied against this replica's state at the message's place in the log, the same on every replica, so
      // every replica refuses the same patches (absent document, invalid merge): the refusal is the answer.
      try {
        await this.o.local.patchDocument(this.o.localName, op.id, op.patch);
      } catch (err) {
        if (!(err instanceof SpladexError) || err.code === 'INTERNAL' || err.code === 'STORAGE_FULL' || err.code === 'BUSY') throw err;
        this.rejected++;
        this.refusals.set(seq, { code: err.code, message: err.message });
        if (this.refusals.size > MAX_REFUSALS) this.refusals.delete(this.refusals.keys().next().value as number);
      }
      return;
    }
    if (op.op === 'upsert') {
      const r = await this.o.local.upsertDocuments(this.o.localName, op.docs);
      if (r.errors.length > 0) {
        this.rejected += r.errors.length;
        this.o.logger.warn({ replica: this.o.localName, errors: r.errors.slice(0, 3) }, 'documents refused at apply');
      }
      return;
    }
    // One durable store delete per message (absent ids are skipped), not one per id.
    if (op.ids.length > 0) await this.o.local.deleteDocuments(this.o.localName, { ids: op.ids });
  }

  /** Reads the subject's newest message (called by the node every heartbeat; the lag below is as of then). */
  async refreshHead(): Promise<void> {
    if (this.stopped) return;
    this.head = await this.o.link.head(this.o.stream, this.o.subject);
    if (this.applied >= this.head.seq) this.caughtUp = true;
  }

  /**
   * How far behind the log this replica is: `lag` in stream sequence numbers (head − applied; the stream holds
   * every shard of the collection, so this counts the other shards' messages in between too) and `lagMs`, how
   * much older the newest applied write is than the newest one (both JetStream store times: no clock skew), 0
   * when caught up, null when behind and the applied write's time is unknown (applied before lag was recorded).
   */
  lag(): ReplicaLag {
    return replicaLag(this.head, { seq: this.applied, timeMs: this.appliedTimeMs });
  }

  /** Why the patch message `seq` was refused here, if it was (the last MAX_REFUSALS refusals are kept). */
  refusal(seq: number): { code: string; message: string } | undefined {
    return this.refusals.get(seq);
  }

  /** Resolves once `seq` is applied; BUSY after `timeoutMs`. */
  waitApplied(seq: number, timeoutMs: number): Promise<void> {
    if (this.applied >= seq) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(
          new SpladexError('BUSY', `replica ${this.o.localName} has applied ${this.applied}, not yet ${seq}`, { retryAfterSeconds: 1 }),
        );
      }, timeoutMs);
      const done = () => {
        clearTimeout(timer);
        resolve();
      };
      this.waiters.push({ seq, resolve: done });
    });
  }

  private wake(): void {
    if (this.waiters.length === 0) return;
    const keep: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.applied >= w.seq) w.resolve();
      else keep.push(w);
    }
    this.waiters = keep;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.consumer?.stop();
    await this.draining;
    this.consumer = null;
  }

  /** Stops and removes the local collection and its applied file (the collection was deleted). */
  async destroy(): Promise<void> {
    await this.stop();
    await this.o.local.deleteCollection(this.o.localName).catch(() => undefined);
    await fs.rm(this.appliedFile, { force: true });
  }
}

/** A replica's lag behind the log (see ShardReplica.lag). */
export interface ReplicaLag {
  lag: number;
  lagMs: number | null;
}

/** The lag of a replica that applied up to `applied` behind a subject whose newest message is `head`. */
export function replicaLag(head: SubjectHead, applied: SubjectHead): ReplicaLag {
  const lag = Math.max(0, head.seq - applied.seq);
  if (lag === 0) return { lag, lagMs: 0 };
  return { lag, lagMs: applied.timeMs > 0 ? Math.max(0, head.timeMs - applied.timeMs) : null };
}

/** The applied file: the sequence, then (since the lag report) its message's store time in ms; zeros when absent. */
async function readApplied(file: string): Promise<SubjectHead> {
  try {
    const [seq, timeMs] = (await fs.readFile(file, 'utf8')).split('\n').map((l) => Number.parseInt(l, 10));
    const ok = (n: number | undefined) => (n !== undefined && Number.isSafeInteger(n) && n > 0 ? n : 0);
    return { seq: ok(seq), timeMs: ok(timeMs) };
  } catch {
    return { seq: 0, timeMs: 0 };
  }
}
