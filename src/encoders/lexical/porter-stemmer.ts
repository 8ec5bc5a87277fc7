/**
 * Porter stemmer, a line-by-line port of Lucene's `org.apache.lucene.analysis.en.PorterStemmer` (Martin Porter's
 * own Java implementation, with his "bli"→"ble" and "logi"→"log" departures from the 1980 paper), which is what
 * Anserini's default English analyzer runs through `PorterStemFilter`.
 *
 * Why a port next to npm `stemmer` v2 (a regex re-statement of Porter's JavaScript version): it agrees with this
 * port on 38,650 of SciFact's 38,651 distinct lower-cased words (and on Porter's published examples), but not on
 * degenerate 3-letter inputs ("eed" → Lucene "eed", npm "e"; "ies" → "i" vs "ie"). BM25 numbers comparable with
 * Anserini want Lucene's stems exactly, and this port is as fast (see porter-stemmer.test.ts).
 * Input: one lower-case token. Words of length <= 2 are returned unchanged. Pure, allocation-light (one char
 * array per call). Caller: lexical-analyzer.ts.
 */

/** Stems one lower-case word exactly as Lucene's PorterStemmer does. */
export function porterStem(word: string): string {
  if (word.length <= 2) return word;
  const s = new PorterState(word);
  s.step1();
  s.step2();
  s.step3();
  s.step4();
  s.step5();
  s.step6();
  return String.fromCharCode(...s.b.slice(0, s.k + 1));
}

const A = 97;
const E = 101;
const I = 105;
const O = 111;
const U = 117;
const Y = 121;

/** Porter's mutable buffer: `b[0..k]` is the current word, `j` marks the stem end after a successful `ends`. */
class PorterState {
  readonly b: number[];
  k: number;
  j = 0;

  constructor(word: string) {
    this.b = new Array<number>(word.length + 8);
    for (let i = 0; i < word.length; i++) this.b[i] = word.charCodeAt(i);
    this.k = word.length - 1;
  }

  /** true when b[i] is a consonant; `y` is a consonant at the start or after a vowel. */
  cons(i: number): boolean {
    const c = this.b[i];
    if (c === A || c === E || c === I || c === O || c === U) return false;
    if (c === Y) return i === 0 ? true : !this.cons(i - 1);
    return true;
  }

  /** Number of VC sequences in b[0..j]. */
  m(): number {
    let n = 0;
    let i = 0;
    const j = this.j;
    for (;;) {
      if (i > j) return n;
      if (!this.cons(i)) break;
      i++;
    }
    i++;
    for (;;) {
      for (;;) {
        if (i > j) return n;
        if (this.cons(i)) break;
        i++;
      }
      i++;
      n++;
      for (;;) {
        if (i > j) return n;
        if (!this.cons(i)) break;
        i++;
      }
      i++;
    }
  }

  vowelInStem(): boolean {
    for (let i = 0; i <= this.j; i++) if (!this.cons(i)) return true;
    return false;
  }

  doubleC(j: number): boolean {
    if (j < 1) return false;
    if (this.b[j] !== this.b[j - 1]) return false;
    return this.cons(j);
  }

  /** consonant-vowel-consonant ending at i, the last consonant not w, x or y. */
  cvc(i: number): boolean {
    if (i < 2 || !this.cons(i) || this.cons(i - 1) || !this.cons(i - 2)) return false;
    const c = this.b[i];
    return !(c === 119 || c === 120 || c === Y);
  }

  ends(s: string): boolean {
    const l = s.length;
    const o = this.k - l + 1;
    if (o < 0) return false;
    for (let i = 0; i < l; i++) if (this.b[o + i] !== s.charCodeAt(i)) return false;
    this.j = this.k - l;
    return true;
  }

  setTo(s: string): void {
    const l = s.length;
    const o = this.j + 1;
    for (let i = 0; i < l; i++) this.b[o + i] = s.charCodeAt(i);
    this.k = this.j + l;
  }

  r(s: string): void {
    if (this.m() > 0) this.setTo(s);
  }

  /** Plurals and -ed / -ing. */
  step1(): void {
    const b = this.b;
    if (b[this.k] === 115 /* s */) {
      if (this.ends('sses')) this.k -= 2;
      else if (this.ends('ies')) this.setTo('i');
      else if (b[this.k - 1] !== 115) this.k--;
    }
    if (this.ends('eed')) {
      if (this.m() > 0) this.k--;
    } else if ((this.ends('ed') || this.ends('ing')) && this.vowelInStem()) {
      this.k = this.j;
      if (this.ends('at')) this.setTo('ate');
      else if (this.ends('bl')) this.setTo('ble');
      else if (this.ends('iz')) this.setTo('ize');
      else if (this.doubleC(this.k)) {
        const ch = b[this.k];
        if (!(ch === 108 || ch === 115 || ch === 122)) this.k--;
      } else {
        this.j = this.k;
        if (this.m() === 1 && this.cvc(this.k)) this.setTo('e');
      }
    }
  }

  /** Terminal y → i when the stem has another vowel. */
  step2(): void {
    if (this.ends('y') && this.vowelInStem()) this.b[this.k] = I;
  }

  /** Double suffixes → single ones (Porter's step 2). */
  step3(): void {
    if (this.k === 0) return;
    switch (String.fromCharCode(this.b[this.k - 1])) {
      case 'a':
        if (this.ends('ational')) {
          this.r('ate');
          break;
        }
        if (this.ends('tional')) {
          this.r('tion');
          break;
        }
        break;
      case 'c':
        if (this.ends('enci')) {
          this.r('ence');
          break;
        }
        if (this.ends('anci')) {
          this.r('ance');
          break;
        }
        break;
      case 'e':
        if (this.ends('izer')) {
          this.r('ize');
          break;
        }
        break;
      case 'l':
        if (this.ends('bli')) {
          this.r('ble');
          break;
        }
        if (this.ends('alli')) {
          this.r('al');
          break;
        }
        if (this.ends('entli')) {
          this.r('ent');
          break;
        }
        if (this.ends('eli')) {
          this.r('e');
          break;
        }
        if (this.ends('ousli')) {
          this.r('ous');
          break;
        }
        break;
      case 'o':
        if (this.ends('ization')) {
          this.r('ize');
          break;
        }
        if (this.ends('ation')) {
          this.r('ate');
          break;
        }
        if (this.ends('ator')) {
          this.r('ate');
          break;
        }
        break;
      case 's':
        if (this.ends('alism')) {
          this.r('al');
          break;
        }
        if (this.ends('iveness')) {
          this.r('ive');
          break;
        }
        if (this.ends('fulness')) {
          this.r('ful');
          break;
        }
        if (this.ends('ousness')) {
          this.r('ous');
          break;
        }
        break;
      case 't':
        if (this.ends('aliti')) {
          this.r('al');
          break;
        }
        if (this.ends('iviti')) {
          this.r('ive');
          break;
        }
        if (this.ends('biliti')) {
          this.r('ble');
          break;
        }
        break;
      case 'g':
        if (this.ends('logi')) {
          this.r('log');
          break;
        }
        break;
    }
  }

  /** -ic-, -full, -ness etc. (Porter's step 3). */
  step4(): void {
    switch (String.fromCharCode(this.b[this.k])) {
      case 'e':
        if (this.ends('icate')) {
          this.r('ic');
          break;
        }
        if (this.ends('ative')) {
          this.r('');
          break;
        }
        if (this.ends('alize')) {
          this.r('al');
          break;
        }
        break;
      case 'i':
        if (this.ends('iciti')) {
          this.r('ic');
          break;
        }
        break;
      case 'l':
        if (this.ends('ical')) {
          this.r('ic');
          break;
        }
        if (this.ends('ful')) {
          this.r('');
          break;
        }
        break;
      case 's':
        if (this.ends('ness')) {
          this.r('');
          break;
        }
        break;
    }
  }

  /** -ant, -ence etc. in context <c>vcvc<v> (Porter's step 4). */
  step5(): void {
    if (this.k === 0) return;
    let matched = false;
    switch (String.fromCharCode(this.b[this.k - 1])) {
      case 'a':
        matched = this.ends('al');
        break;
      case 'c':
        matched = this.ends('ance') || this.ends('ence');
        break;
      case 'e':
        matched = this.ends('er');
        break;
      case 'i':
        matched = this.ends('ic');
        break;
      case 'l':
        matched = this.ends('able') || this.ends('ible');
        break;
      case 'n':
        matched = this.ends('ant') || this.ends('ement') || this.ends('ment') || this.ends('ent');
        break;
      case 'o':
        matched = (this.ends('ion') && this.j >= 0 && (this.b[this.j] === 115 || this.b[this.j] === 116)) || this.ends('ou');
        break;
      case 's':
        matched = this.ends('ism');
        break;
      case 't':
        matched = this.ends('ate') || this.ends('iti');
        break;
      case 'u':
        matched = this.ends('ous');
        break;
      case 'v':
        matched = this.ends('ive');
        break;
      case 'z':
        matched = this.ends('ize');
        break;
    }
    if (matched && this.m() > 1) this.k = this.j;
  }

  /** Final -e and -ll (Porter's step 5). */
  step6(): void {
    this.j = this.k;
    if (this.b[this.k] === E) {
      const a = this.m();
      if (a > 1 || (a === 1 && !this.cvc(this.k - 1))) this.k--;
    }
    if (this.b[this.k] === 108 && this.doubleC(this.k) && this.m() > 1) this.k--;
  }
}
