/**
 * `spladex models pull | list | rm`: encoder directories from the Hugging Face Hub, in SPLADEX_ENCODERS_DIR
 * (src/encoders/hub/). `pull` prints what it recognised and what it wrote on stdout, a download bar on a terminal;
 * `list` prints one line per encoder directory (`--json`: an array); `rm` removes one (with its `-query` side).
 * The Hub settings (HF_ENDPOINT, HF_TOKEN, HF_HUB_OFFLINE) come in parsed from run-cli.ts.
 */
import type { EnvConfig } from '../config/env.js';
import type { HubEnv } from '../config/hub-env.js';
import { listModels, removeModel } from '../encoders/hub/local-models.js';
import { pullModel } from '../encoders/hub/pull.js';
import { createCliLogger } from '../ingest/open-target.js';
import { createByteProgress } from '../ingest/progress.js';
import { parseCommandArgs, positional, UsageError, type CliIo } from './usage.js';

export const MODELS_HELP = `spladex models pull <org/repo> [--revision REV] [--name NAME]
spladex models list [--json]
spladex models rm <NAME>
  pull   downloads a Hugging Face Hub repo into SPLADEX_ENCODERS_DIR/NAME (default NAME: the repo's last part),
         recognises its layout (SPLADE MLM ONNX, pooled graph, OpenSearch inference-free doc model + query
         weights → NAME and NAME-query, sentence-transformers dense, an exported encoder.json) and writes
         encoder.json with the sha256 of every file. Resumable; a second pull of the same commit does nothing.
         HF_ENDPOINT (default https://huggingface.co), HF_TOKEN (gated repos, e.g. naver/splade-v3: accept the
         licence on its Hub page first), HF_HUB_OFFLINE=1 (use only what is already pulled).
  list   the encoder directories: name, kind, dim, source repo@commit, size
  rm     removes an encoder directory (and the NAME-query one pulled with it)`;

function formatMb(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** Runs `spladex models …`; returns the exit code. */
export async function modelsCommand(args: string[], env: EnvConfig, io: CliIo, hub: HubEnv): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') {
    io.stdout(`${MODELS_HELP}\n`);
    return sub === undefined ? 2 : 0;
  }
  if (sub === 'pull') {
    const { values, positionals } = parseCommandArgs(rest, {
      help: { type: 'boolean', short: 'h' },
      revision: { type: 'string' },
      name: { type: 'string' },
      'log-level': { type: 'string' },
    });
    if (values.help === true) {
      io.stdout(`${MODELS_HELP}\n`);
      return 0;
    }
    const repo = positional(positionals, 0, 'repo (org/name)');
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    await pullModel({
      conn: { endpoint: hub.endpoint, token: hub.token },
      offline: hub.offline,
      encodersDir: env.encodersDir,
      repo,
      revision: values.revision,
      name: values.name,
      logger: createCliLogger(values['log-level']),
      say: (line) => io.stdout(`${line}\n`),
      progress: createByteProgress(io, `pull ${repo}`),
    });
    return 0;
  }
  if (sub === 'list') {
    const { values, positionals } = parseCommandArgs(rest, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
    if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
    if (values.help === true) {
      io.stdout(`${MODELS_HELP}\n`);
      return 0;
    }
    const models = await listModels(env.encodersDir);
    if (values.json === true) {
      io.stdout(`${JSON.stringify(models)}\n`);
      return 0;
    }
    for (const m of models) {
      const src = m.source === undefined ? '-' : `${m.source.repo}@${m.source.sha.slice(0, 12)} (${m.source.layout})`;
      const what = m.error === undefined ? `${m.kind}\t${m.dim}` : `invalid\t${m.error}`;
      io.stdout(`${m.name}\t${what}\t${src}\t${formatMb(m.sizeBytes)}\n`);
    }
    return 0;
  }
  if (sub === 'rm') {
    const { positionals } = parseCommandArgs(rest, {});
    const name = positional(positionals, 0, 'encoder name');
    if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
    const removed = await removeModel(env.encodersDir, name);
    io.stdout(`removed encoders/${removed.join(' and encoders/')}\n`);
    return 0;
  }
  throw new UsageError(`unknown models subcommand "${sub}" (pull, list, rm)`);
}
