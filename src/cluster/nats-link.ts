/**
 * The one importer of the NATS client (@nats-io/transport-node, jetstream, kv): a connection with the few
 * operations cluster mode uses — JetStream streams (publish with ack, ordered consumers from a sequence, the last
 * sequence of a subject), key-value buckets (put, create-if-absent, get, delete, watch) and request/reply.
 * Everything above it (src/cluster/*) speaks bytes and plain objects, so swapping the client touches one file.
 * Targets nats-server 2.9 (Debian's): one filter subject per consumer (multi-filter consumers need 2.10),
 * bucket-wide TTL (per-key TTL needs 2.11).
 */
import { connect, type NatsConnection, type Subscription } from '@nats-io/transport-node';
import { jetstream, jetstreamManager, type JetStreamClient, type JetStreamManager } from '@nats-io/jetstream';
import { Kvm, type KV } from '@nats-io/kv';
import { SpladexError } from '../core/errors.js';

/** One message of a stream as a consumer sees it. */
export interface StreamMessage {
  seq: number;
  data: Uint8Array;
  /** Messages of the consumer's filter still to be delivered after this one. */
  pending: number;
  /** When JetStream stored it (server time), ms since the epoch. */
  timeMs: number;
}

/** The newest message of a subject: its sequence (0 when none) and when it was stored (0 when none). */
export interface SubjectHead {
  seq: number;
  timeMs: number;
}

/** A running consumer; `stop` ends delivery (the handler is not called afterwards). */
export interface ConsumerHandle {
  stop(): Promise<void>;
}

/** A key-value entry as watchers see it (`value` null for a delete or purge). */
export interface KvEvent {
  key: string;
  value: Uint8Array | null;
  /** Server time of the write, ms since the epoch. */
  createdMs: number;
}

export interface KvBucket {
  put(key: string, value: Uint8Array): Promise<void>;
  /** Writes only when the key has no value; false when it has one. */
  create(key: string, value: Uint8Array): Promise<boolean>;
  get(key: string): Promise<Uint8Array | null>;
  delete(key: string): Promise<void>;
  /** Calls `onEvent` for the current value of every key, then for every change, until `stop`. */
  watch(onEvent: (e: KvEvent) => void): Promise<ConsumerHandle>;
}

export interface NatsLink {
  /** How many NATS servers the connection knows (the URLs given plus those gossiped), for stream replicas. */
  readonly serverCount: number;
  ensureStream(name: string, subjects: string[], replicas: number): Promise<void>;
  deleteStream(name: string): Promise<void>;
  /** Publishes and resolves with the stream sequence once JetStream has stored (and replicated) it. */
  publish(subject: string, data: Uint8Array, msgId: string): Promise<number>;
  /** The sequence of the last message on `subject` in `stream`, 0 when none. */
  lastSeq(stream: string, subject: string): Promise<number>;
  /** The last message on `subject` in `stream` (sequence and store time; zeros when none). */
  head(stream: string, subject: string): Promise<SubjectHead>;
  /**
   * Delivers `subject`'s messages of `stream` from sequence `fromSeq` in order, one at a time (the next after
   * `onMessage` resolves); an ordered consumer, recreated by the client after a server failure.
   */
  consume(stream: string, subject: string, fromSeq: number, onMessage: (m: StreamMessage) => Promise<void>): Promise<ConsumerHandle>;
  bucket(name: string, opts: { ttlMs?: number; replicas: number }): Promise<KvBucket>;
  /** Answers requests on `subject` with what `handler` returns; one handler call at a time per message order. */
  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array>): ConsumerHandle;
  /** A request; throws BUSY on timeout or when nobody listens (the caller fails over). */
  request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

/** Connects to the NATS servers (retrying while they come up, bounded by `timeoutMs`). */
export async function openNatsLink(servers: string[], name: string, timeoutMs = 30_000): Promise<NatsLink> {
  const nc = await connect({
    servers,
    name,
    timeout: timeoutMs,
    waitOnFirstConnect: true,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 250,
  });
  // Right after a NATS node (re)starts, the JetStream API can answer "not enabled" until the meta leader is
  // known: retry within the deadline.
  const deadline = Date.now() + timeoutMs;
  let jsm: JetStreamManager;
  for (;;) {
    try {
      jsm = await jetstreamManager(nc, { timeout: 5000 });
      break;
    } catch (err) {
      if (Date.now() > deadline) {
        await nc.close();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  const js = jetstream(nc, { timeout: 5000 });
  return new Link(nc, js, jsm, servers.length);
}

/** How long a publish is retried across a stream leader election before the write answers BUSY, ms. */
const PUBLISH_RETRY_MS = 10_000;

class Link implements NatsLink {
  private readonly subs: Subscription[] = [];

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly given: number,
  ) {}

  get serverCount(): number {
    return Math.max(this.given, (this.nc.info?.connect_urls?.length ?? 0) || 0);
  }

  async ensureStream(name: string, subjects: string[], replicas: number): Promise<void> {
    try {
      await this.jsm.streams.info(name);
    } catch {
      await retrying(() => this.jsm.streams.add({ name, subjects, num_replicas: replicas }));
    }
  }

  async deleteStream(name: string): Promise<void> {
    try {
      await this.jsm.streams.delete(name);
    } catch {
      // Already gone.
    }
  }

  async publish(subject: string, data: Uint8Array, msgId: string): Promise<number> {
    try {
      // During a stream leader election the publish finds no responders or times out: retry with the same
      // message id (JetStream's duplicate window drops a second copy) for up to PUBLISH_RETRY_MS.
      const ack = await retrying(() => this.js.publish(subject, data, { msgID: msgId, timeout: 2000 }), PUBLISH_RETRY_MS);
      return ack.seq;
    } catch (err) {
      throw new SpladexError('BUSY', `the cluster log did not acknowledge the write (${(err as Error).message}); retry`, {
        cause: err,
        retryAfterSeconds: 1,
      });
    }
  }

  async lastSeq(stream: string, subject: string): Promise<number> {
    return (await this.head(stream, subject)).seq;
  }

  async head(stream: string, subject: string): Promise<SubjectHead> {
    try {
      const m = await this.jsm.streams.getMessage(stream, { last_by_subj: subject });
      return m === null ? { seq: 0, timeMs: 0 } : { seq: m.seq, timeMs: m.time.getTime() };
    } catch {
      return { seq: 0, timeMs: 0 };
    }
  }

  async consume(stream: string, subject: string, fromSeq: number, onMessage: (m: StreamMessage) => Promise<void>): Promise<ConsumerHandle> {
    const consumer = await this.js.consumers.get(stream, { filter_subjects: subject, opt_start_seq: fromSeq });
    // Short pull expiry and heartbeats, so a pull lost with its server is noticed in seconds, not 30 s.
    const messages = await consumer.consume({ max_messages: 256, expires: 5000, idle_heartbeat: 1000 });
    let stopped = false;
    const done = (async () => {
      for await (const m of messages) {
        if (stopped) break;
        await onMessage({ seq: m.seq, data: m.data, pending: m.info.pending, timeMs: Math.floor(m.info.timestampNanos / 1e6) });
      }
    })();
    return {
      async stop() {
        stopped = true;
        await messages.close();
        await done.catch(() => undefined);
      },
    };
  }

  async bucket(name: string, opts: { ttlMs?: number; replicas: number }): Promise<KvBucket> {
    // A cluster still forming answers "no suitable peers for placement": retry for a while.
    const kv: KV = await retrying(() => new Kvm(this.nc).create(name, { history: 1, replicas: opts.replicas, ttl: opts.ttlMs ?? 0 }));
    return {
      async put(key, value) {
        await retrying(() => kv.put(key, value), 10_000);
      },
      async create(key, value) {
        try {
          await kv.create(key, value);
          return true;
        } catch (err) {
          if (/wrong last sequence|exists/i.test((err as Error).message)) return false;
          throw err;
        }
      },
      async get(key) {
        const e = await kv.get(key);
        return e === null || e.operation !== 'PUT' ? null : e.value;
      },
      async delete(key) {
        await kv.delete(key);
      },
      async watch(onEvent) {
        const w = await kv.watch();
        const done = (async () => {
          for await (const e of w) {
            onEvent({ key: e.key, value: e.operation === 'PUT' ? e.value : null, createdMs: e.created.getTime() });
          }
        })();
        return {
          async stop() {
            w.stop();
            await done.catch(() => undefined);
          },
        };
      },
    };
  }

  serve(subject: string, handler: (data: Uint8Array) => Promise<Uint8Array>): ConsumerHandle {
    const sub = this.nc.subscribe(subject, {
      callback: (err, msg) => {
        if (err) return;
        handler(msg.data).then(
          (reply) => msg.respond(reply),
          () => undefined,
        );
      },
    });
    this.subs.push(sub);
    return {
      async stop() {
        sub.unsubscribe();
      },
    };
  }

  async request(subject: string, data: Uint8Array, timeoutMs: number): Promise<Uint8Array> {
    try {
      const m = await this.nc.request(subject, data, { timeout: timeoutMs });
      return m.data;
    } catch (err) {
      throw new SpladexError('BUSY', `no answer on ${subject} (${(err as Error).message})`, { cause: err, retryAfterSeconds: 1 });
    }
  }

  async close(): Promise<void> {
    for (const s of this.subs) s.unsubscribe();
    await this.nc.drain().catch(() => this.nc.close());
  }
}

/** Runs `fn` until it succeeds or `timeoutMs` passes (then rethrows its last error). */
async function retrying<T>(fn: () => Promise<T>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}
