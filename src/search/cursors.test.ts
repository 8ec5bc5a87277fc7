/**
 * The cursor registry (cursors.ts): signed tokens round-trip and refuse any alteration, contexts expire a TTL
 * after their last use (a use extends it) and the least recently used goes first past `max`.
 */
import { describe, expect, it } from 'vitest';
import { CursorRegistry } from './cursors.js';

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
});
