// Porter stemmer: Porter's published examples, Lucene's departures, and agreement with npm `stemmer`.
import { describe, expect, it } from 'vitest';
import { stemmer } from 'stemmer';
import { porterStem } from './porter-stemmer.js';

// From Porter (1980) and the reference voc.txt/output.txt pairs.
const CASES: [string, string][] = [
  ['caresses', 'caress'],
  ['ponies', 'poni'],
  ['ties', 'ti'],
  ['caress', 'caress'],
  ['cats', 'cat'],
  ['feed', 'feed'],
  ['agreed', 'agre'],
  ['plastered', 'plaster'],
  ['bled', 'bled'],
  ['motoring', 'motor'],
  ['sing', 'sing'],
  ['conflated', 'conflat'],
  ['troubled', 'troubl'],
  ['sized', 'size'],
  ['hopping', 'hop'],
  ['tanned', 'tan'],
  ['falling', 'fall'],
  ['hissing', 'hiss'],
  ['fizzed', 'fizz'],
  ['failing', 'fail'],
  ['filing', 'file'],
  ['happy', 'happi'],
  ['sky', 'sky'],
  ['relational', 'relat'],
  ['conditional', 'condit'],
  ['rational', 'ration'],
  ['valenci', 'valenc'],
  ['digitizer', 'digit'],
  ['conformabli', 'conform'],
  ['radicalli', 'radic'],
  ['differentli', 'differ'],
  ['vileli', 'vile'],
  ['analogousli', 'analog'],
  ['vietnamization', 'vietnam'],
  ['predication', 'predic'],
  ['operator', 'oper'],
  ['feudalism', 'feudal'],
  ['decisiveness', 'decis'],
  ['hopefulness', 'hope'],
  ['callousness', 'callous'],
  ['formaliti', 'formal'],
  ['sensitiviti', 'sensit'],
  ['sensibiliti', 'sensibl'],
  ['triplicate', 'triplic'],
  ['formative', 'form'],
  ['formalize', 'formal'],
  ['electriciti', 'electr'],
  ['electrical', 'electr'],
  ['hopeful', 'hope'],
  ['goodness', 'good'],
  ['revival', 'reviv'],
  ['allowance', 'allow'],
  ['inference', 'infer'],
  ['airliner', 'airlin'],
  ['gyroscopic', 'gyroscop'],
  ['adjustable', 'adjust'],
  ['defensible', 'defens'],
  ['irritant', 'irrit'],
  ['replacement', 'replac'],
  ['adjustment', 'adjust'],
  ['dependent', 'depend'],
  ['adoption', 'adopt'],
  ['homologou', 'homolog'],
  ['communism', 'commun'],
  ['activate', 'activ'],
  ['angulariti', 'angular'],
  ['homologous', 'homolog'],
  ['effective', 'effect'],
  ['bowdlerize', 'bowdler'],
  ['probate', 'probat'],
  ['rate', 'rate'],
  ['cease', 'ceas'],
  ['controll', 'control'],
  ['roll', 'roll'],
  ['generalization', 'gener'],
  ['oscillators', 'oscil'],
];

describe('porterStem', () => {
  it("reproduces Porter's published examples", () => {
    for (const [w, s] of CASES) expect([w, porterStem(w)]).toEqual([w, s]);
  });
  it("applies Lucene's departures from the paper (bli→ble, logi→log)", () => {
    expect(porterStem('archaeology')).toBe('archaeolog');
    expect(porterStem('possibli')).toBe('possibl');
  });
  it('treats y after a vowel as a consonant', () => {
    expect(['sayings', 'enjoying', 'obeyed', 'boys', 'syzygy'].map(porterStem)).toEqual(['sai', 'enjoi', 'obei', 'boi', 'syzygi']);
  });
  it('leaves words of length <= 2 and digit tokens mostly alone', () => {
    expect(['is', 'a', 'ox', '1990s', '3.14'].map(porterStem)).toEqual(['is', 'a', 'ox', '1990', '3.14']);
  });
  it('agrees with npm stemmer except on degenerate 3-letter inputs', () => {
    for (const [w] of CASES) expect(porterStem(w)).toBe(stemmer(w));
    expect([porterStem('eed'), stemmer('eed')]).toEqual(['eed', 'e']);
  });
});
