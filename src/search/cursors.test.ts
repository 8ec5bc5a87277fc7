/**
 * The cursor registry (cursors.ts): signed tokens round-trip and refuse any alteration, contexts expire a TTL
 * after their last use (a use extends it) and the least recently used goes first past `max`.
 */
import { describe, expect, it } from 'vitest';
import { CursorRegistry } from './cursors.js';
import { Rng } from '../core/rng.js';

describe('CursorRegistry', () => {
  it('signs and verifies; an altered or foreign token is refused', () => {
    const a = new CursorRegistry<string>({ ttlMs: 1000, max: 10 });
    const b = new CursorRegistry<string>({ ttlMs: 1000, max: 10 });
    const t = a.sign(['s', 1, 2.5, 'x']);
    expect(a.verify(t, 'f')).toEqual(['s', 1, 2.5, 'x']);
    expect(() => b.verify(t, 'f')).toThrow(/^f: not a cursor of this collection/);
    const [body, mac] = t.split('.');
    const other = Buffer.from(JSON.stringify(['s', 1, 2.5, 'y'])).toString('base64url');
    expect(() => a.verify(`${other}.${mac}`, 'f')).toThrow(/not a cursor/);
    expect(() => a.verify(`${body}.`, 'f')).toThrow(/not a cursor/);
    expect(() => a.verify('nodot', 'f')).toThrow(/not a cursor/);
  });

  it('expires a TTL after the last use and drops the least recently used past max', () => {
    let now = 0;
    const r = new CursorRegistry<string>({ ttlMs: 100, max: 2, now: () => now });
    const x = r.open('x');
    now = 90;
    expect(r.use(x, 'c')).toBe('x'); // extends to 190
    const y = r.open('y');
    now = 150;
    expect(r.use(x, 'c')).toBe('x');
    const z = r.open('z'); // max 2: y (least recently used) goes
    expect(() => r.use(y, 'c')).toThrow(/^c: the cursor expired/);
    expect(r.use(z, 'c')).toBe('z');
    now = 1000;
    expect(() => r.use(x, 'c')).toThrow(/expired/);
    r.open('w');
    expect(r.size).toBe(1);
  });

  it('keeps exactly the contexts an LRU with expiry keeps, over a long seeded run of opens, uses and clock steps', () => {
    // The registry's own list against a plain array model (least recently used first).
    let now = 0;
    const max = 5;
    const ttl = 50;
    const r = new CursorRegistry<number>({ ttlMs: ttl, max, now: () => now });
    let model: { id: number; expiresAt: number }[] = [];
    const rng = new Rng(7);
    const opened: number[] = [];
    for (let step = 0; step < 3000; step++) {
      const x = rng.next();
      if (x < 0.45) {
        model = model.filter((e) => e.expiresAt > now);
        while (model.length >= max) model.shift();
        const id = r.open(step);
        opened.push(id);
        model.push({ id, expiresAt: now + ttl });
      } else if (x < 0.9 && model.length > 0) {
        const e = model[Math.floor(rng.next() * model.length)];
        if (e.expiresAt > now) {
          expect(r.use(e.id, 'c')).toBeTypeOf('number');
          model = model.filter((m) => m !== e);
          model.push({ id: e.id, expiresAt: now + ttl });
        } else {
          expect(() => r.use(e.id, 'c')).toThrow(/expired/);
          model = model.filter((m) => m !== e);
        }
      } else {
        now += Math.floor(rng.next() * 20);
      }
    }
    const alive = new Set(model.filter((e) => e.expiresAt > now).map((e) => e.id));
    expect(alive.size).toBeGreaterThan(0);
    for (const id of opened) {
      if (alive.has(id)) expect(r.use(id, 'c')).toBeTypeOf('number');
      else expect(() => r.use(id, 'c')).toThrow(/expired/);
    }
  });
});
