/**
 * Files `models pull` writes itself instead of downloading (see the `PlannedFile` kinds of ./hub-layouts.ts):
 * a BERT WordPiece `tokenizer.json` from a `vocab.txt` (one token per line, id = line number; the structure that
 * Hugging Face's BertTokenizerFast conversion writes: BertNormalizer, BertPreTokenizer, `[CLS] $A [SEP]`), and an
 * `idf.json` (`{"token": weight}`, what the `idf` encoder reads) from OpenSearch's `query_token_weights.txt`
 * (`token<TAB>weight` per line) or from an `idf.json` already in that format (validated, rewritten as is).
 * Caller: ./pull.ts.
 */
import { readFile } from 'node:fs/promises';
import { SpladexError } from '../../core/errors.js';

const BERT_SPECIALS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'];

/** tokenizer.json text for the WordPiece vocabulary in `vocabFile`. Throws INVALID_ARGUMENT without [CLS]/[SEP]/[UNK]. */
export async function buildBertTokenizerJson(vocabFile: string, lowercase: boolean, label: string): Promise<string> {
  const lines = (await readFile(vocabFile, 'utf8')).split(/\r?\n/);
  if (lines.at(-1) === '') lines.pop();
  const vocab: Record<string, number> = {};
  lines.forEach((t, i) => {
    if (!Object.hasOwn(vocab, t)) vocab[t] = i;
  });
  for (const t of ['[CLS]', '[SEP]', '[UNK]']) {
    if (!Object.hasOwn(vocab, t)) throw new SpladexError('INVALID_ARGUMENT', `${label}: the vocabulary has no ${t} token`);
  }
  const added = BERT_SPECIALS.filter((t) => Object.hasOwn(vocab, t)).map((t) => ({
    id: vocab[t],
    content: t,
    single_word: false,
    lstrip: false,
    rstrip: false,
    normalized: false,
    special: true,
  }));
  const special = (t: string) => ({ id: t, ids: [vocab[t]], tokens: [t] });
  const json = {
    version: '1.0',
    truncation: null,
    padding: null,
    added_tokens: added,
    normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase },
    pre_tokenizer: { type: 'BertPreTokenizer' },
    post_processor: {
      type: 'TemplateProcessing',
      single: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
      ],
      pair: [
        { SpecialToken: { id: '[CLS]', type_id: 0 } },
        { Sequence: { id: 'A', type_id: 0 } },
        { SpecialToken: { id: '[SEP]', type_id: 0 } },
        { Sequence: { id: 'B', type_id: 1 } },
        { SpecialToken: { id: '[SEP]', type_id: 1 } },
      ],
      special_tokens: { '[CLS]': special('[CLS]'), '[SEP]': special('[SEP]') },
    },
    decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
    model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: 100, vocab },
  };
  return JSON.stringify(json);
}

/** idf.json text from query weights (`token<TAB>weight` lines, or a `{"token": weight}` JSON object). */
export async function buildIdfJson(weightsFile: string, label: string): Promise<string> {
  const text = await readFile(weightsFile, 'utf8');
  const out: Record<string, number> = {};
  if (weightsFile.endsWith('.json')) {
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch (e) {
      throw new SpladexError('INVALID_ARGUMENT', `${label}: not JSON (${(e as Error).message})`);
    }
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw))
      throw new SpladexError('INVALID_ARGUMENT', `${label}: not a {"token": weight} object`);
    for (const [t, w] of Object.entries(raw)) if (typeof w === 'number' && Number.isFinite(w)) out[t] = w;
  } else {
    let lineNo = 0;
    for (const line of text.split('\n')) {
      lineNo++;
      const l = line.replace(/\r$/, '');
      if (l === '') continue;
      // The token may itself contain spaces; the weight is after the last tab.
      const tab = l.lastIndexOf('\t');
      const w = Number(l.slice(tab + 1));
      if (tab <= 0 || !Number.isFinite(w)) throw new SpladexError('INVALID_ARGUMENT', `${label}: line ${lineNo} is not "token<TAB>weight"`);
      out[l.slice(0, tab)] = w;
    }
  }
  if (Object.keys(out).length === 0) throw new SpladexError('INVALID_ARGUMENT', `${label}: no token weights`);
  return JSON.stringify(out);
}
