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
import type { ConsumerHandle, NatsLink } from './nats-link.js';
import type { ShardOp } from './wire.js';

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
  /** Messages of this shard the consumer reported as still to come, at the last delivery. */
  pending = 0;
  /** Documents whose upsert the local collection refused at apply (validated at the accepting node first). */
  rejected = 0;
  /** Why applying stopped (the node restarts the replica at its next reconcile), null while healthy. */
  failed: string | null = null;
  private consumer: ConsumerHandle | null = null;
  private waiters: { seq: number; resolve: () => void }[] = [];
  private stopped = false;

  constructor(private readonly o: ShardReplicaOptions) {}

  private get appliedFile(): string {
    return path.join(this.o.dataDir, '.cluster', `${this.o.localName}.applied`);
  }

  /** Opens (or creates) the local collection, reads the applied sequence and starts consuming after it. */
  async start(): Promise<void> {
    const { created } = await this.o.local.createCollection(this.o.localName, this.o.config);
    if (created) await fs.rm(this.appliedFile, { force: true });
    else this.applied = await readApplied(this.appliedFile);
    await fs.mkdir(path.dirname(this.appliedFile), { recursive: true });
    this.consumer = await this.o.link.consume(this.o.stream, this.o.subject, this.applied + 1, async (m) => {
      if (this.stopped || this.failed !== null || m.seq <= this.applied) return;
      try {
        await this.apply(JSON.parse(Buffer.from(m.data).toString('utf8')) as ShardOp);
        await writeFileAtomic(this.appliedFile, `${m.seq}\n`);
      } catch (err) {
        // Nothing after a failed message may be applied (order is the contract): stop here; a restart resumes at it.
        this.failed = (err as Error).message;
        this.o.logger.error({ replica: this.o.localName, seq: m.seq, err }, 'shard replica stopped applying');
        return;
      }
      this.applied = m.seq;
      this.pending = m.pending;
      this.wake();
    });
    this.o.logger.info({ replica: this.o.localName, applied: this.applied }, 'shard replica consuming');
  }

  private async apply(op: ShardOp): Promise<void> {
    if (op.op === 'upsert') {
      const r = await this.o.local.upsertDocuments(this.o.localName, op.docs);
      if (r.errors.length > 0) {
        this.rejected += r.errors.length;
        this.o.logger.warn({ replica: this.o.localName, errors: r.errors.slice(0, 3) }, 'documents refused at apply');
      }
      return;
    }
    for (const id of op.ids) {
      try {
        await this.o.local.deleteDocument(this.o.localName, id);
      } catch (err) {
        if (!(err instanceof SpladexError && err.code === 'NOT_FOUND')) throw err;
      }
    }
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
    this.consumer = null;
  }

  /** Stops and removes the local collection and its applied file (the collection was deleted). */
  async destroy(): Promise<void> {
    await this.stop();
    await this.o.local.deleteCollection(this.o.localName).catch(() => undefined);
    await fs.rm(this.appliedFile, { force: true });
  }
}

async function readApplied(file: string): Promise<number> {
  try {
    const n = Number.parseInt(await fs.readFile(file, 'utf8'), 10);
    return Number.isSafeInteger(n) && n > 0 ? n : 0;
  } catch {
    return 0;
  }
}
