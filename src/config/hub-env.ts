/**
 * The Hugging Face Hub settings of `spladex models pull`, read from the environment like the Hub's own clients:
 * `HF_ENDPOINT` (default https://huggingface.co), `HF_TOKEN` (a Bearer token for gated or private repos) and
 * `HF_HUB_OFFLINE` (1/true/yes/on: no network, use what the encoders directory already holds). They keep the
 * Hub's names, not SPLADEX_*, so a user's existing settings apply. Part of src/config/, the only reader of the
 * environment; called by the CLI dispatcher (src/cli/run-cli.ts) with the process environment.
 */
import { SpladexError } from '../core/errors.js';

export interface HubEnv {
  /** Base URL without a trailing slash. */
  endpoint: string;
  token: string | undefined;
  offline: boolean;
}

export const DEFAULT_HF_ENDPOINT = 'https://huggingface.co';

/** Parses the Hub variables; throws INVALID_ARGUMENT naming HF_ENDPOINT when it is not an http(s) URL. */
export function loadHubEnv(env: Record<string, string | undefined>): HubEnv {
  const raw = env.HF_ENDPOINT?.trim() || DEFAULT_HF_ENDPOINT;
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new SpladexError('INVALID_ARGUMENT', `HF_ENDPOINT: not a URL: "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new SpladexError('INVALID_ARGUMENT', `HF_ENDPOINT: must be an http or https URL, got "${raw}"`);
  }
  const token = env.HF_TOKEN?.trim();
  const offline = /^(1|true|yes|on)$/i.test(env.HF_HUB_OFFLINE?.trim() ?? '');
  return { endpoint: raw.replace(/\/+$/, ''), token: token === '' ? undefined : token, offline };
}
