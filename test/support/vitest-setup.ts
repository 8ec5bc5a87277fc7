/**
 * Runs before every test file (vitest.config.ts `setupFiles`). Its `afterAll` is registered before the file's own
 * hooks, so it runs after them: whatever process the file started and did not stop (a test that timed out never
 * reaches its cleanup) is killed before the next file starts (child-reaper.ts).
 */
import { afterAll } from 'vitest';
import { reapChildren } from './child-reaper.js';

afterAll(() => reapChildren());
