/**
 * A small pool of `worker_threads` with a bounded queue, for CPU-heavy work that must not block the event loop
 * (ONNX inference: onnxruntime-node keeps its calling thread busy for the whole run). Used by the ONNX encoders
 * (src/encoders/onnx-encoder.ts); generic over the worker module (`entry`) and its messages.
 *
 * Protocol (worker side: src/encoders/encode-worker.ts): the worker initialises from `workerData` and posts
 * `{type:'ready'}` or `{type:'init-error', code, message}`; then for each `{type:'task', id, payload}` it posts
 * `{type:'result', id, ok:true, result}` or `{type:'result', id, ok:false, code, message}`. A worker runs one task
 * at a time.
 *
 * Admission is per job (one `submit` call = one or more tasks, e.g. one encode request split across workers):
 * a job waits until its first task starts; when `queueSize` jobs are already waiting, `submit` throws
 * `SpladexError('BUSY', …, {retryAfterSeconds})` synchronously (before returning a promise), so a caller can
 * map it to 503 + Retry-After. Tasks run in FIFO order. A worker that crashes fails its task with INTERNAL and is
 * replaced.
 */
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { SpladexError, type ErrorCode } from '../core/errors.js';
import { fromWireError, startWorker } from '../core/worker-thread.js';

/** Pool settings (see the file comment for the worker protocol). */
export interface WorkerPoolOptions {
  /** URL of the worker's entry module (`workerUrl` of src/core/worker-thread.ts: .ts from sources, .js built). */
  entry: URL;
  workerData: unknown;
  /** Number of workers, >= 1. */
  size: number;
  /** Jobs allowed to wait for a free worker, >= 1. */
  queueSize: number;
  logger: Logger;
  /** Used in log lines and thread names. */
  name: string;
}

interface Job {
  started: boolean;
}

interface Task {
  id: number;
  job: Job;
  payload: unknown;
  transfer: readonly ArrayBuffer[];
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
}

interface Slot {
  worker: Worker;
  task: Task | undefined;
  startedAt: number;
}

type WorkerMessage =
  | { type: 'ready' }
  | { type: 'init-error'; code: ErrorCode; message: string }
  | { type: 'result'; id: number; ok: true; result: unknown }
  | { type: 'result'; id: number; ok: false; code: ErrorCode; message: string };

/** A fixed set of workers with a FIFO task queue and per-job admission; create with `WorkerPool.start`. */
export class WorkerPool {
  private readonly slots: Slot[] = [];
  private readonly queue: Task[] = [];
  private waitingJobs = 0;
  private nextId = 1;
  private closed = false;
  /** Exponential moving average of task duration, for Retry-After estimates. */
  private avgTaskMs = 100;

  private constructor(private readonly opts: WorkerPoolOptions) {}

  /**
   * Starts `size` workers and waits until each has initialised. If any worker fails to initialise, all are
   * terminated and its error is thrown (with the code the worker reported, e.g. INVALID_ARGUMENT).
   */
  static async start(opts: WorkerPoolOptions): Promise<WorkerPool> {
    const pool = new WorkerPool(opts);
    try {
      await Promise.all(Array.from({ length: Math.max(1, opts.size) }, () => pool.spawn()));
    } catch (e) {
      await pool.close();
      throw e;
    }
    return pool;
  }

  /** Number of workers. */
  get size(): number {
    return Math.max(1, this.opts.size);
  }

  /** Jobs waiting for their first task to start. */
  get queueDepth(): number {
    return this.waitingJobs;
  }

  /** Workers currently running a task. */
  get busyWorkers(): number {
    return this.slots.filter((s) => s.task !== undefined).length;
  }

  /**
   * Submits one job of `payloads.length` tasks; resolves with their results in order. Throws BUSY synchronously
   * when the queue is full, INTERNAL after close.
   */
  submit<T>(payloads: readonly unknown[], transfers?: readonly (readonly ArrayBuffer[])[]): Promise<T[]> {
    if (this.closed) throw new SpladexError('INTERNAL', `${this.opts.name}: worker pool is closed`);
    const idle = this.slots.some((s) => s.task === undefined) && this.queue.length === 0;
    if (!idle && this.waitingJobs >= this.opts.queueSize) {
      const perWorker = (this.queue.length + this.slots.length) / this.slots.length;
      const retryAfterSeconds = Math.min(60, Math.max(1, Math.ceil((perWorker * this.avgTaskMs) / 1000)));
      throw new SpladexError('BUSY', `encoder ${this.opts.name} is busy: ${this.waitingJobs} requests queued`, { retryAfterSeconds });
    }
    const job: Job = { started: false };
    this.waitingJobs++;
    const promises = payloads.map(
      (payload, i) =>
        new Promise<unknown>((resolve, reject) => {
          this.queue.push({ id: this.nextId++, job, payload, transfer: transfers?.[i] ?? [], resolve, reject });
        }),
    );
    if (payloads.length === 0) {
      this.waitingJobs--;
      return Promise.resolve([]);
    }
    this.dispatch();
    return Promise.all(promises) as Promise<T[]>;
  }

  /** Terminates the workers; queued and running tasks fail with INTERNAL. */
  async close(): Promise<void> {
    this.closed = true;
    const err = new SpladexError('INTERNAL', `${this.opts.name}: encoder closed`);
    for (const t of this.queue.splice(0)) t.reject(err);
    this.waitingJobs = 0;
    const slots = this.slots.splice(0);
    for (const s of slots) s.task?.reject(err);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    for (const slot of this.slots) {
      if (this.queue.length === 0) return;
      if (slot.task !== undefined) continue;
      const task = this.queue.shift() as Task;
      if (!task.job.started) {
        task.job.started = true;
        this.waitingJobs--;
      }
      slot.task = task;
      slot.startedAt = performance.now();
      slot.worker.postMessage({ type: 'task', id: task.id, payload: task.payload }, task.transfer as ArrayBuffer[]);
    }
  }

  private spawn(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const worker = startWorker(this.opts.entry, { workerData: this.opts.workerData, name: this.opts.name });
      const slot: Slot = { worker, task: undefined, startedAt: 0 };
      let ready = false;
      worker.on('message', (msg: WorkerMessage) => {
        if (msg.type === 'ready') {
          ready = true;
          this.slots.push(slot);
          resolve();
          this.dispatch();
        } else if (msg.type === 'init-error') {
          reject(fromWireError(msg, `${this.opts.name}: worker failed to start`));
          void worker.terminate();
        } else {
          const task = slot.task;
          slot.task = undefined;
          const ms = performance.now() - slot.startedAt;
          this.avgTaskMs = 0.8 * this.avgTaskMs + 0.2 * ms;
          if (task !== undefined && task.id === msg.id) {
            if (msg.ok) task.resolve(msg.result);
            else task.reject(fromWireError(msg, `${this.opts.name}: worker failed to start`));
          }
          this.dispatch();
        }
      });
      const onDeath = (why: string, err?: unknown): void => {
        if (!ready) {
          reject(new SpladexError('INTERNAL', `${this.opts.name}: worker failed to start (${why})`, { cause: err }));
          return;
        }
        const i = this.slots.indexOf(slot);
        if (i < 0) return; // closed or already handled
        this.slots.splice(i, 1);
        this.opts.logger.error({ err, encoder: this.opts.name }, `encoder worker died (${why}); replacing it`);
        slot.task?.reject(new SpladexError('INTERNAL', `${this.opts.name}: encoder worker died`, { cause: err }));
        if (!this.closed) {
          this.spawn().catch((e: unknown) => this.opts.logger.error({ err: e, encoder: this.opts.name }, 'cannot replace encoder worker'));
        }
      };
      worker.on('error', (err) => onDeath(err.message, err));
      worker.on('exit', (code) => onDeath(`exit code ${code}`));
    });
  }
}
