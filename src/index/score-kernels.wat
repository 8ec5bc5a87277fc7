;; Doc-scoring and block-summary kernels of the approximate searcher (src/seismic/searcher.ts), over a segment file read into a shared
;; WebAssembly memory (src/core/section-file.ts `wasm`). Written by scripts/gen-score-kernels.py (edit it, not this),
;; assembled by `npm run build:wasm` (scripts/build-wasm.mjs) into score-kernels.wasm.ts. Same sums as the JavaScript kernels they replace, bit for bit (each f32 operand
;; promoted to f64, one running f64 sum per doc, in entry order): wasm drops the typed-array bounds checks and
;; keeps four docs' sums in registers, 1.5-2x faster per nonzero than the JavaScript loops (see index/wasm-kernels.ts).
;; Every pointer argument is a byte address in the imported memory; the caller keeps every read in bounds (a bad
;; address traps, it never reads outside the memory).
(module
  (import "env" "memory" (memory 1 65536 shared))
  ;; The doc kernels' touch folds (see fwd16_touch), kept so that the touching loads are not dropped, and the
  ;; number of rows touched (read by the tests).
  (global $sink (mut i32) (i32.const 0))
  (global $touched (export "touched") (mut i32) (i32.const 0))

  ;; Unless on is 0: reads one byte of each of the first 12 64-byte lines of the values (and of as many entries'
  ;; ids) of every doc docs[0..n) before any is scored (a short row's last line again instead of lines past it),
  ;; so that their cache misses are in flight together. No load depends on another's value and every doc takes the
  ;; same number of touches, so the core issues them back to back, where the scoring loop's misses wait behind its
  ;; exits from rows of varying length. Returns a fold of the bytes (kept in a global so the loads stay).
  (func $fwd16_touch (param $docs i32) (param $n i32) (param $off i32) (param $ids i32) (param $vals i32) (param $on i32) (result i32)
    (local $dp i32) (local $dend i32) (local $o i32) (local $p i32) (local $e i32) (local $a i32) (local $b i32)
    (local $la i32) (local $lb i32) (local $t i32) (local $x i32)
    (local.set $dend (i32.add (local.get $docs) (i32.shl (select (local.get $n) (i32.const 0) (local.get $on)) (i32.const 2))))
    (global.set $touched (i32.add (global.get $touched) (i32.shr_u (i32.sub (local.get $dend) (local.get $docs)) (i32.const 2))))
    ;; First every doc's offsets entry, so that their misses overlap: the rows' addresses depend on them.
    (local.set $dp (local.get $docs))
    (block $offs_done
      (loop $offs
        (br_if $offs_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $x (i32.xor (local.get $x) (i32.load (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (br $offs)))
    (local.set $dp (local.get $docs))
    (block $done
      (loop $doc
        (br_if $done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $p (i32.load (local.get $o)))
        (local.set $e (i32.load offset=4 (local.get $o)))
        ;; The last entry (the first when the row is empty: still inside the memory, which the scorer's scratch follows).
        (local.set $e (select (i32.sub (local.get $e) (i32.const 1)) (local.get $p) (i32.gt_u (local.get $e) (local.get $p))))
        (local.set $a (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
        (local.set $la (i32.add (local.get $vals) (i32.shl (local.get $e) (i32.const 2))))
        (local.set $b (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1))))
        (local.set $lb (i32.add (local.get $ids) (i32.shl (local.get $e) (i32.const 1))))
        (local.set $t (i32.add (local.get $a) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 64)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 128)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 192)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 256)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 320)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 384)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 448)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 512)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 576)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 640)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 704)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $b) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 64)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 128)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 192)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 256)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 320)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (br $doc)))
    (local.get $x))

  ;; Tail of one doc: continues the running sum s over n more entries (ids at a, values at v).
  (func $fwd16_tail (param $a i32) (param $v i32) (param $n i32) (param $s f64) (param $q i32) (result f64)
    (local $ae i32)
    (local.set $ae (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 1))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $ae)))
        (local.set $s (f64.add (local.get $s) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load16_u (local.get $a)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v))))))
        (local.set $a (i32.add (local.get $a) (i32.const 2)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; out[i] = Σ_p q[ids[p]] · vals[p] over doc docs[i]'s entries [off[d], off[d+1]), in entry order, as f64
  ;; (each f32 operand promoted): forward-index.ts `scoreDocs`, bit for bit. Four docs in lockstep over the
  ;; shortest of their rows, then each one's tail, after the touch pass over them (`fwd16_touch`) unless touch
  ;; is 0. All other arguments are byte addresses in the memory.
  (func (export "fwd16") (param $docs i32) (param $n i32) (param $out i32) (param $q i32) (param $off i32) (param $ids i32) (param $vals i32) (param $touch i32)
    (local $dp i32) (local $dend i32) (local $op i32) (local $o i32) (local $p i32) (local $m i32) (local $ae i32)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $v0 i32) (local $v1 i32) (local $v2 i32) (local $v3 i32)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (global.set $sink (call $fwd16_touch (local.get $docs) (local.get $n) (local.get $off) (local.get $ids) (local.get $vals) (local.get $touch)))
    (local.set $dp (local.get $docs))
    (local.set $op (local.get $out))
    (local.set $dend (i32.add (local.get $docs) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $quads_done
      (loop $quad
        (br_if $quads_done (i32.ge_u (local.get $dp) (local.get $dend)))

      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=0 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l0 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a0 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1))))
      (local.set $v0 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=4 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l1 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a1 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1))))
      (local.set $v1 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=8 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l2 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a2 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1))))
      (local.set $v2 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=12 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l3 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a3 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1))))
      (local.set $v3 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $m (local.get $l0))
      (if (i32.lt_u (local.get $l1) (local.get $m)) (then (local.set $m (local.get $l1))))
      (if (i32.lt_u (local.get $l2) (local.get $m)) (then (local.set $m (local.get $l2))))
      (if (i32.lt_u (local.get $l3) (local.get $m)) (then (local.set $m (local.get $l3))))
      (local.set $s0 (f64.const 0))
      (local.set $s1 (f64.const 0))
      (local.set $s2 (f64.const 0))
      (local.set $s3 (f64.const 0))
      (local.set $ae (i32.add (local.get $a0) (i32.shl (local.get $m) (i32.const 1))))
      (block $run_done
        (loop $run
          (br_if $run_done (i32.ge_u (local.get $a0) (local.get $ae)))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load16_u (local.get $a0)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v0))))))
        (local.set $a0 (i32.add (local.get $a0) (i32.const 2)))
        (local.set $v0 (i32.add (local.get $v0) (i32.const 4)))
        (local.set $s1 (f64.add (local.get $s1) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load16_u (local.get $a1)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v1))))))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 2)))
        (local.set $v1 (i32.add (local.get $v1) (i32.const 4)))
        (local.set $s2 (f64.add (local.get $s2) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load16_u (local.get $a2)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v2))))))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 2)))
        (local.set $v2 (i32.add (local.get $v2) (i32.const 4)))
        (local.set $s3 (f64.add (local.get $s3) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load16_u (local.get $a3)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v3))))))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 2)))
        (local.set $v3 (i32.add (local.get $v3) (i32.const 4)))
          (br $run)))

      (f64.store offset=0 (local.get $op)
        (call $fwd16_tail (local.get $a0) (local.get $v0) (i32.sub (local.get $l0) (local.get $m)) (local.get $s0) (local.get $q)))
      (f64.store offset=8 (local.get $op)
        (call $fwd16_tail (local.get $a1) (local.get $v1) (i32.sub (local.get $l1) (local.get $m)) (local.get $s1) (local.get $q)))
      (f64.store offset=16 (local.get $op)
        (call $fwd16_tail (local.get $a2) (local.get $v2) (i32.sub (local.get $l2) (local.get $m)) (local.get $s2) (local.get $q)))
      (f64.store offset=24 (local.get $op)
        (call $fwd16_tail (local.get $a3) (local.get $v3) (i32.sub (local.get $l3) (local.get $m)) (local.get $s3) (local.get $q)))
      (local.set $dp (i32.add (local.get $dp) (i32.const 16)))
      (local.set $op (i32.add (local.get $op) (i32.const 32)))
      (br $quad)))
    (local.set $dend (i32.add (local.get $docs) (i32.shl (local.get $n) (i32.const 2))))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $p (i32.load (local.get $o)))
        (f64.store (local.get $op)
          (call $fwd16_tail
            (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 1)))
            (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))
            (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p))
            (f64.const 0) (local.get $q)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $op (i32.add (local.get $op) (i32.const 8)))
        (br $rest)))
  )

  ;; Unless on is 0: reads one byte of each of the first 12 64-byte lines of the values (and of as many entries'
  ;; ids) of every doc docs[0..n) before any is scored (a short row's last line again instead of lines past it),
  ;; so that their cache misses are in flight together. No load depends on another's value and every doc takes the
  ;; same number of touches, so the core issues them back to back, where the scoring loop's misses wait behind its
  ;; exits from rows of varying length. Returns a fold of the bytes (kept in a global so the loads stay).
  (func $fwd32_touch (param $docs i32) (param $n i32) (param $off i32) (param $ids i32) (param $vals i32) (param $on i32) (result i32)
    (local $dp i32) (local $dend i32) (local $o i32) (local $p i32) (local $e i32) (local $a i32) (local $b i32)
    (local $la i32) (local $lb i32) (local $t i32) (local $x i32)
    (local.set $dend (i32.add (local.get $docs) (i32.shl (select (local.get $n) (i32.const 0) (local.get $on)) (i32.const 2))))
    (global.set $touched (i32.add (global.get $touched) (i32.shr_u (i32.sub (local.get $dend) (local.get $docs)) (i32.const 2))))
    ;; First every doc's offsets entry, so that their misses overlap: the rows' addresses depend on them.
    (local.set $dp (local.get $docs))
    (block $offs_done
      (loop $offs
        (br_if $offs_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $x (i32.xor (local.get $x) (i32.load (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (br $offs)))
    (local.set $dp (local.get $docs))
    (block $done
      (loop $doc
        (br_if $done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $p (i32.load (local.get $o)))
        (local.set $e (i32.load offset=4 (local.get $o)))
        ;; The last entry (the first when the row is empty: still inside the memory, which the scorer's scratch follows).
        (local.set $e (select (i32.sub (local.get $e) (i32.const 1)) (local.get $p) (i32.gt_u (local.get $e) (local.get $p))))
        (local.set $a (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
        (local.set $la (i32.add (local.get $vals) (i32.shl (local.get $e) (i32.const 2))))
        (local.set $b (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2))))
        (local.set $lb (i32.add (local.get $ids) (i32.shl (local.get $e) (i32.const 2))))
        (local.set $t (i32.add (local.get $a) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 64)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 128)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 192)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 256)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 320)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 384)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 448)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 512)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 576)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 640)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 704)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $b) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 64)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 128)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 192)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 256)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 320)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 384)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 448)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 512)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 576)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 640)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $t (i32.add (local.get $b) (i32.const 704)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $lb) (i32.lt_u (local.get $t) (local.get $lb))))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (br $doc)))
    (local.get $x))

  ;; Tail of one doc: continues the running sum s over n more entries (ids at a, values at v).
  (func $fwd32_tail (param $a i32) (param $v i32) (param $n i32) (param $s f64) (param $q i32) (result f64)
    (local $ae i32)
    (local.set $ae (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $ae)))
        (local.set $s (f64.add (local.get $s) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load (local.get $a)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v))))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (local.set $v (i32.add (local.get $v) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; out[i] = Σ_p q[ids[p]] · vals[p] over doc docs[i]'s entries [off[d], off[d+1]), in entry order, as f64
  ;; (each f32 operand promoted): forward-index.ts `scoreDocs`, bit for bit. Four docs in lockstep over the
  ;; shortest of their rows, then each one's tail, after the touch pass over them (`fwd32_touch`) unless touch
  ;; is 0. All other arguments are byte addresses in the memory.
  (func (export "fwd32") (param $docs i32) (param $n i32) (param $out i32) (param $q i32) (param $off i32) (param $ids i32) (param $vals i32) (param $touch i32)
    (local $dp i32) (local $dend i32) (local $op i32) (local $o i32) (local $p i32) (local $m i32) (local $ae i32)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $v0 i32) (local $v1 i32) (local $v2 i32) (local $v3 i32)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (global.set $sink (call $fwd32_touch (local.get $docs) (local.get $n) (local.get $off) (local.get $ids) (local.get $vals) (local.get $touch)))
    (local.set $dp (local.get $docs))
    (local.set $op (local.get $out))
    (local.set $dend (i32.add (local.get $docs) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $quads_done
      (loop $quad
        (br_if $quads_done (i32.ge_u (local.get $dp) (local.get $dend)))

      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=0 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l0 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a0 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $v0 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=4 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l1 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a1 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $v1 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=8 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l2 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a2 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $v2 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $o (i32.add (local.get $off) (i32.shl (i32.load offset=12 (local.get $dp)) (i32.const 2))))
      (local.set $p (i32.load (local.get $o)))
      (local.set $l3 (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p)))
      (local.set $a3 (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $v3 (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2))))
      (local.set $m (local.get $l0))
      (if (i32.lt_u (local.get $l1) (local.get $m)) (then (local.set $m (local.get $l1))))
      (if (i32.lt_u (local.get $l2) (local.get $m)) (then (local.set $m (local.get $l2))))
      (if (i32.lt_u (local.get $l3) (local.get $m)) (then (local.set $m (local.get $l3))))
      (local.set $s0 (f64.const 0))
      (local.set $s1 (f64.const 0))
      (local.set $s2 (f64.const 0))
      (local.set $s3 (f64.const 0))
      (local.set $ae (i32.add (local.get $a0) (i32.shl (local.get $m) (i32.const 2))))
      (block $run_done
        (loop $run
          (br_if $run_done (i32.ge_u (local.get $a0) (local.get $ae)))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load (local.get $a0)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v0))))))
        (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
        (local.set $v0 (i32.add (local.get $v0) (i32.const 4)))
        (local.set $s1 (f64.add (local.get $s1) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load (local.get $a1)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v1))))))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $v1 (i32.add (local.get $v1) (i32.const 4)))
        (local.set $s2 (f64.add (local.get $s2) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load (local.get $a2)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v2))))))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
        (local.set $v2 (i32.add (local.get $v2) (i32.const 4)))
        (local.set $s3 (f64.add (local.get $s3) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.load (local.get $a3)) (i32.const 2)))))
          (f64.promote_f32 (f32.load (local.get $v3))))))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
        (local.set $v3 (i32.add (local.get $v3) (i32.const 4)))
          (br $run)))

      (f64.store offset=0 (local.get $op)
        (call $fwd32_tail (local.get $a0) (local.get $v0) (i32.sub (local.get $l0) (local.get $m)) (local.get $s0) (local.get $q)))
      (f64.store offset=8 (local.get $op)
        (call $fwd32_tail (local.get $a1) (local.get $v1) (i32.sub (local.get $l1) (local.get $m)) (local.get $s1) (local.get $q)))
      (f64.store offset=16 (local.get $op)
        (call $fwd32_tail (local.get $a2) (local.get $v2) (i32.sub (local.get $l2) (local.get $m)) (local.get $s2) (local.get $q)))
      (f64.store offset=24 (local.get $op)
        (call $fwd32_tail (local.get $a3) (local.get $v3) (i32.sub (local.get $l3) (local.get $m)) (local.get $s3) (local.get $q)))
      (local.set $dp (i32.add (local.get $dp) (i32.const 16)))
      (local.set $op (i32.add (local.get $op) (i32.const 32)))
      (br $quad)))
    (local.set $dend (i32.add (local.get $docs) (i32.shl (local.get $n) (i32.const 2))))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $off) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $p (i32.load (local.get $o)))
        (f64.store (local.get $op)
          (call $fwd32_tail
            (i32.add (local.get $ids) (i32.shl (local.get $p) (i32.const 2)))
            (i32.add (local.get $vals) (i32.shl (local.get $p) (i32.const 2)))
            (i32.sub (i32.load offset=4 (local.get $o)) (local.get $p))
            (f64.const 0) (local.get $q)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $op (i32.add (local.get $op) (i32.const 8)))
        (br $rest)))
  )

  ;; float32 value of half-float bits h (all 65,536 patterns, as half-rows.ts `halfTable`): normal halves by
  ;; re-biasing the exponent, subnormals as man · 2^-24, Inf and NaN kept. The row kernels inline the normal case
  ;; (bits (h & 0x7fff) << 13 plus the bias difference 112 << 23, sign moved up) and call this for the rest: zero,
  ;; subnormals, and Inf/NaN, which rows never hold (their scale keeps every value below 2^15).
  (func $half (export "halfValue") (param $h i32) (result f32)
    (local $e i32)
    (local.set $e (i32.and (local.get $h) (i32.const 0x7c00)))
    (if (result f32) (i32.ge_u (i32.sub (local.get $e) (i32.const 0x400)) (i32.const 0x7800))
      (then
        (if (result f32) (i32.eqz (local.get $e))
          (then
            (f32.copysign
              (f32.mul (f32.convert_i32_u (i32.and (local.get $h) (i32.const 0x3ff))) (f32.const 0x1p-24))
              (f32.reinterpret_i32 (i32.shl (local.get $h) (i32.const 16)))))
          (else
            (f32.reinterpret_i32 (i32.or (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16))
              (i32.or (i32.const 0x7f800000) (i32.shl (i32.and (local.get $h) (i32.const 0x3ff)) (i32.const 13))))))))
      (else
        (f32.reinterpret_i32 (i32.or (i32.shl (i32.and (local.get $h) (i32.const 0x8000)) (i32.const 16))
          (i32.add (i32.shl (i32.and (local.get $h) (i32.const 0x7fff)) (i32.const 13)) (i32.const 0x38000000)))))))


  ;; `fwd16_touch` for half-float rows: the first 12 lines of every row, bounded by the last byte of the
  ;; rows (last), not by the row's count word: a touch then waits on no load, where one bound by the count waited
  ;; for the row's first line to arrive. A short row's touches read lines of the rows after it.
  (func $rows_touch (param $starts i32) (param $n i32) (param $rows i32) (param $last i32) (param $on i32) (result i32)
    (local $dp i32) (local $dend i32) (local $a i32) (local $la i32) (local $t i32) (local $x i32)
    (local.set $dend (i32.add (local.get $starts) (i32.shl (select (local.get $n) (i32.const 0) (local.get $on)) (i32.const 2))))
    (global.set $touched (i32.add (global.get $touched) (i32.shr_u (i32.sub (local.get $dend) (local.get $starts)) (i32.const 2))))
    (local.set $dp (local.get $starts))
    (block $done
      (loop $doc
        (br_if $done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $a (i32.add (local.get $rows) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $la (i32.add (local.get $a) (i32.const 767)))
        (local.set $la (select (local.get $la) (local.get $last) (i32.lt_u (local.get $la) (local.get $last))))
        (local.set $t (i32.add (local.get $a) (i32.const 0)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 64)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 128)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 192)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 256)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 320)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 384)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 448)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 512)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 576)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 640)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $t (i32.add (local.get $a) (i32.const 704)))
        (local.set $x (i32.xor (local.get $x) (i32.load8_u (select (local.get $t) (local.get $la) (i32.lt_u (local.get $t) (local.get $la))))))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (br $doc)))
    (local.get $x))

  ;; Tail of one half-float row: continues s over n more words from a.
  (func $half_tail (param $a i32) (param $n i32) (param $s f64) (param $q i32) (result f64)
    (local $ae i32) (local $x i32) (local $b i32)
    (local.set $ae (i32.add (local.get $a) (i32.shl (local.get $n) (i32.const 2))))
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $a) (local.get $ae)))
        (local.set $x (i32.load (local.get $a)))
        (local.set $b (i32.or (i32.and (local.get $x) (i32.const 0x80000000))
          (i32.add (i32.shr_u (i32.and (local.get $x) (i32.const 0x7fff0000)) (i32.const 3)) (i32.const 0x38000000))))
        (if (i32.ge_u (i32.sub (i32.and (local.get $x) (i32.const 0x7c000000)) (i32.const 0x4000000)) (i32.const 0x78000000))
          (then (local.set $b (i32.reinterpret_f32 (call $half (i32.shr_u (local.get $x) (i32.const 16)))))))
        (local.set $s (f64.add (local.get $s) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x) (i32.const 0xffff)) (i32.const 2)))))
          (f64.promote_f32 (f32.reinterpret_i32 (local.get $b))))))
        (local.set $a (i32.add (local.get $a) (i32.const 4)))
        (br $next)))
    (local.get $s))

  ;; out[i] = Σ q[term] · half(value) over the half-float row starting at word starts[i] of rows (a count word,
  ;; then term | half << 16 words), in row order, as f64: half-rows.ts `scoreHalfRows`, bit for bit. Any half.
  ;; The rows are touched first (`rows_touch`, up to last, the rows' last byte) unless touch is 0.
  (func (export "half") (param $starts i32) (param $n i32) (param $out i32) (param $q i32) (param $rows i32) (param $last i32) (param $touch i32)
    (local $dp i32) (local $dend i32) (local $op i32) (local $o i32) (local $m i32) (local $ae i32)
    (local $x0 i32) (local $x1 i32) (local $x2 i32) (local $x3 i32)
    (local $b0 i32) (local $b1 i32) (local $b2 i32) (local $b3 i32)
    (local $l0 i32) (local $l1 i32) (local $l2 i32) (local $l3 i32)
    (local $a0 i32) (local $a1 i32) (local $a2 i32) (local $a3 i32)
    (local $s0 f64) (local $s1 f64) (local $s2 f64) (local $s3 f64)
    (global.set $sink (call $rows_touch (local.get $starts) (local.get $n) (local.get $rows) (local.get $last) (local.get $touch)))
    (local.set $dp (local.get $starts))
    (local.set $op (local.get $out))
    (local.set $dend (i32.add (local.get $starts) (i32.shl (i32.and (local.get $n) (i32.const -4)) (i32.const 2))))
    (block $quads_done
      (loop $quad
        (br_if $quads_done (i32.ge_u (local.get $dp) (local.get $dend)))

      (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load offset=0 (local.get $dp)) (i32.const 2))))
      (local.set $l0 (i32.load (local.get $o)))
      (local.set $a0 (i32.add (local.get $o) (i32.const 4)))
      (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load offset=4 (local.get $dp)) (i32.const 2))))
      (local.set $l1 (i32.load (local.get $o)))
      (local.set $a1 (i32.add (local.get $o) (i32.const 4)))
      (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load offset=8 (local.get $dp)) (i32.const 2))))
      (local.set $l2 (i32.load (local.get $o)))
      (local.set $a2 (i32.add (local.get $o) (i32.const 4)))
      (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load offset=12 (local.get $dp)) (i32.const 2))))
      (local.set $l3 (i32.load (local.get $o)))
      (local.set $a3 (i32.add (local.get $o) (i32.const 4)))
      (local.set $m (local.get $l0))
      (if (i32.lt_u (local.get $l1) (local.get $m)) (then (local.set $m (local.get $l1))))
      (if (i32.lt_u (local.get $l2) (local.get $m)) (then (local.set $m (local.get $l2))))
      (if (i32.lt_u (local.get $l3) (local.get $m)) (then (local.set $m (local.get $l3))))
      (local.set $s0 (f64.const 0))
      (local.set $s1 (f64.const 0))
      (local.set $s2 (f64.const 0))
      (local.set $s3 (f64.const 0))
      (local.set $ae (i32.add (local.get $a0) (i32.shl (local.get $m) (i32.const 2))))
      (block $run_done
        (loop $run
          (br_if $run_done (i32.ge_u (local.get $a0) (local.get $ae)))
        (local.set $x0 (i32.load (local.get $a0)))
        (local.set $b0 (i32.or (i32.and (local.get $x0) (i32.const 0x80000000))
          (i32.add (i32.shr_u (i32.and (local.get $x0) (i32.const 0x7fff0000)) (i32.const 3)) (i32.const 0x38000000))))
        (if (i32.ge_u (i32.sub (i32.and (local.get $x0) (i32.const 0x7c000000)) (i32.const 0x4000000)) (i32.const 0x78000000))
          (then (local.set $b0 (i32.reinterpret_f32 (call $half (i32.shr_u (local.get $x0) (i32.const 16)))))))
        (local.set $s0 (f64.add (local.get $s0) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x0) (i32.const 0xffff)) (i32.const 2)))))
          (f64.promote_f32 (f32.reinterpret_i32 (local.get $b0))))))
        (local.set $a0 (i32.add (local.get $a0) (i32.const 4)))
        (local.set $x1 (i32.load (local.get $a1)))
        (local.set $b1 (i32.or (i32.and (local.get $x1) (i32.const 0x80000000))
          (i32.add (i32.shr_u (i32.and (local.get $x1) (i32.const 0x7fff0000)) (i32.const 3)) (i32.const 0x38000000))))
        (if (i32.ge_u (i32.sub (i32.and (local.get $x1) (i32.const 0x7c000000)) (i32.const 0x4000000)) (i32.const 0x78000000))
          (then (local.set $b1 (i32.reinterpret_f32 (call $half (i32.shr_u (local.get $x1) (i32.const 16)))))))
        (local.set $s1 (f64.add (local.get $s1) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x1) (i32.const 0xffff)) (i32.const 2)))))
          (f64.promote_f32 (f32.reinterpret_i32 (local.get $b1))))))
        (local.set $a1 (i32.add (local.get $a1) (i32.const 4)))
        (local.set $x2 (i32.load (local.get $a2)))
        (local.set $b2 (i32.or (i32.and (local.get $x2) (i32.const 0x80000000))
          (i32.add (i32.shr_u (i32.and (local.get $x2) (i32.const 0x7fff0000)) (i32.const 3)) (i32.const 0x38000000))))
        (if (i32.ge_u (i32.sub (i32.and (local.get $x2) (i32.const 0x7c000000)) (i32.const 0x4000000)) (i32.const 0x78000000))
          (then (local.set $b2 (i32.reinterpret_f32 (call $half (i32.shr_u (local.get $x2) (i32.const 16)))))))
        (local.set $s2 (f64.add (local.get $s2) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x2) (i32.const 0xffff)) (i32.const 2)))))
          (f64.promote_f32 (f32.reinterpret_i32 (local.get $b2))))))
        (local.set $a2 (i32.add (local.get $a2) (i32.const 4)))
        (local.set $x3 (i32.load (local.get $a3)))
        (local.set $b3 (i32.or (i32.and (local.get $x3) (i32.const 0x80000000))
          (i32.add (i32.shr_u (i32.and (local.get $x3) (i32.const 0x7fff0000)) (i32.const 3)) (i32.const 0x38000000))))
        (if (i32.ge_u (i32.sub (i32.and (local.get $x3) (i32.const 0x7c000000)) (i32.const 0x4000000)) (i32.const 0x78000000))
          (then (local.set $b3 (i32.reinterpret_f32 (call $half (i32.shr_u (local.get $x3) (i32.const 16)))))))
        (local.set $s3 (f64.add (local.get $s3) (f64.mul
          (f64.promote_f32 (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x3) (i32.const 0xffff)) (i32.const 2)))))
          (f64.promote_f32 (f32.reinterpret_i32 (local.get $b3))))))
        (local.set $a3 (i32.add (local.get $a3) (i32.const 4)))
          (br $run)))

      (f64.store offset=0 (local.get $op)
        (call $half_tail (local.get $a0) (i32.sub (local.get $l0) (local.get $m)) (local.get $s0) (local.get $q)))
      (f64.store offset=8 (local.get $op)
        (call $half_tail (local.get $a1) (i32.sub (local.get $l1) (local.get $m)) (local.get $s1) (local.get $q)))
      (f64.store offset=16 (local.get $op)
        (call $half_tail (local.get $a2) (i32.sub (local.get $l2) (local.get $m)) (local.get $s2) (local.get $q)))
      (f64.store offset=24 (local.get $op)
        (call $half_tail (local.get $a3) (i32.sub (local.get $l3) (local.get $m)) (local.get $s3) (local.get $q)))
      (local.set $dp (i32.add (local.get $dp) (i32.const 16)))
      (local.set $op (i32.add (local.get $op) (i32.const 32)))
      (br $quad)))
    (local.set $dend (i32.add (local.get $starts) (i32.shl (local.get $n) (i32.const 2))))
    (block $rest_done
      (loop $rest
        (br_if $rest_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (f64.store (local.get $op)
          (call $half_tail (i32.add (local.get $o) (i32.const 4)) (i32.load (local.get $o)) (f64.const 0) (local.get $q)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $op (i32.add (local.get $op) (i32.const 8)))
        (br $rest)))
  )

  ;; `half` for rows whose halves are all normal and non-negative (half-rows.ts `buildHalfRows` writes only such,
  ;; seismic-index.ts flags them), in f32 with wasm SIMD: each half decoded in three lane-wise operations, the query
  ;; weights gathered four at a time, products and sums in float32. Per row: entries 8i+j go to lane j of $acc
  ;; (j < 4) or lane j-4 of $acc2 (j >= 4); then, if four or more remain, the next four to $acc's lanes; then the
  ;; lanes are added ($acc + $acc2), reduced as (l0 + l1) + (l2 + l3), and the last len mod 4 entries added in
  ;; order; out = f64 of that f32. half-rows.ts `scoreHalfRowsNormal` is the same arithmetic, bit for bit. The rows
  ;; are touched first (`rows_touch`, up to last, the rows' last byte) unless touch is 0.
  (func (export "halfNormal") (param $starts i32) (param $n i32) (param $out i32) (param $q i32) (param $rows i32) (param $last i32) (param $touch i32)
    (local $dp i32) (local $dend i32) (local $op i32) (local $o i32) (local $len i32) (local $a i32) (local $a8 i32) (local $a4 i32) (local $ae i32)
    (local $x i32) (local $s f32) (local $qv v128) (local $qw v128) (local $acc v128) (local $acc2 v128)
    (global.set $sink (call $rows_touch (local.get $starts) (local.get $n) (local.get $rows) (local.get $last) (local.get $touch)))
    (local.set $dp (local.get $starts))
    (local.set $op (local.get $out))
    (local.set $dend (i32.add (local.get $starts) (i32.shl (local.get $n) (i32.const 2))))
    (block $docs_done
      (loop $doc
        (br_if $docs_done (i32.ge_u (local.get $dp) (local.get $dend)))
        (local.set $o (i32.add (local.get $rows) (i32.shl (i32.load (local.get $dp)) (i32.const 2))))
        (local.set $len (i32.load (local.get $o)))
        (local.set $a (i32.add (local.get $o) (i32.const 4)))
        (local.set $a8 (i32.add (local.get $a) (i32.shl (i32.and (local.get $len) (i32.const -8)) (i32.const 2))))
        (local.set $a4 (i32.add (local.get $a) (i32.shl (i32.and (local.get $len) (i32.const -4)) (i32.const 2))))
        (local.set $ae (i32.add (local.get $a) (i32.shl (local.get $len) (i32.const 2))))
        (local.set $acc (v128.const i32x4 0 0 0 0))
        (local.set $acc2 (v128.const i32x4 0 0 0 0))
        (block $eights_done
          (loop $eight
            (br_if $eights_done (i32.ge_u (local.get $a) (local.get $a8)))
            (local.set $qv (v128.load32_zero (i32.add (local.get $q) (i32.shl (i32.load16_u offset=0 (local.get $a)) (i32.const 2)))))
            (local.set $qv (v128.load32_lane 1 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=4 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $qv (v128.load32_lane 2 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=8 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $qv (v128.load32_lane 3 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=12 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $qw (v128.load32_zero (i32.add (local.get $q) (i32.shl (i32.load16_u offset=16 (local.get $a)) (i32.const 2)))))
            (local.set $qw (v128.load32_lane 1 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=20 (local.get $a)) (i32.const 2))) (local.get $qw)))
            (local.set $qw (v128.load32_lane 2 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=24 (local.get $a)) (i32.const 2))) (local.get $qw)))
            (local.set $qw (v128.load32_lane 3 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=28 (local.get $a)) (i32.const 2))) (local.get $qw)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $qv) (i32x4.add (v128.and (i32x4.shr_u (v128.load offset=0 (local.get $a)) (i32.const 3)) (v128.const i32x4 0x0fffe000 0x0fffe000 0x0fffe000 0x0fffe000))
              (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000)))))
            (local.set $acc2 (f32x4.add (local.get $acc2) (f32x4.mul (local.get $qw) (i32x4.add (v128.and (i32x4.shr_u (v128.load offset=16 (local.get $a)) (i32.const 3)) (v128.const i32x4 0x0fffe000 0x0fffe000 0x0fffe000 0x0fffe000))
              (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000)))))
            (local.set $a (i32.add (local.get $a) (i32.const 32)))
            (br $eight)))
        (if (i32.lt_u (local.get $a) (local.get $a4))
          (then
            (local.set $qv (v128.load32_zero (i32.add (local.get $q) (i32.shl (i32.load16_u offset=0 (local.get $a)) (i32.const 2)))))
            (local.set $qv (v128.load32_lane 1 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=4 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $qv (v128.load32_lane 2 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=8 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $qv (v128.load32_lane 3 (i32.add (local.get $q) (i32.shl (i32.load16_u offset=12 (local.get $a)) (i32.const 2))) (local.get $qv)))
            (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul (local.get $qv) (i32x4.add (v128.and (i32x4.shr_u (v128.load offset=0 (local.get $a)) (i32.const 3)) (v128.const i32x4 0x0fffe000 0x0fffe000 0x0fffe000 0x0fffe000))
              (v128.const i32x4 0x38000000 0x38000000 0x38000000 0x38000000)))))
            (local.set $a (i32.add (local.get $a) (i32.const 16)))))
        (local.set $acc (f32x4.add (local.get $acc) (local.get $acc2)))
        (local.set $s (f32.add
          (f32.add (f32x4.extract_lane 0 (local.get $acc)) (f32x4.extract_lane 1 (local.get $acc)))
          (f32.add (f32x4.extract_lane 2 (local.get $acc)) (f32x4.extract_lane 3 (local.get $acc)))))
        (block $tail_done
          (loop $tail
            (br_if $tail_done (i32.ge_u (local.get $a) (local.get $ae)))
            (local.set $x (i32.load (local.get $a)))
            (local.set $s (f32.add (local.get $s) (f32.mul
              (f32.load (i32.add (local.get $q) (i32.shl (i32.and (local.get $x) (i32.const 0xffff)) (i32.const 2))))
              (f32.reinterpret_i32 (i32.add (i32.and (i32.shr_u (local.get $x) (i32.const 3)) (i32.const 0x0fffe000)) (i32.const 0x38000000))))))
            (local.set $a (i32.add (local.get $a) (i32.const 4)))
            (br $tail)))
        (f64.store (local.get $op) (f64.promote_f32 (local.get $s)))
        (local.set $dp (i32.add (local.get $dp) (i32.const 4)))
        (local.set $op (i32.add (local.get $op) (i32.const 8)))
        (br $doc)))
  )

  ;; Summary scores of one posting list's nb blocks (global ids from g0) against the dense query at q, over the
  ;; transposed summaries (seismic-index.ts layout: components c in [cs, ce) with term ids at terms, entry ranges at
  ;; eoff, entries' local block ids (u16) at eblk and codes (u8) at ecode). ws/wc (f64[nb]) are zeroed, then for
  ;; each component whose query weight w is nonzero, each entry adds w to ws[block] and w·code to wc[block]; then
  ;; out[b] = f32(min[g0+b]·ws[b] + step[g0+b]·wc[b]). The same f64 operations in the same order as searcher.ts's
  ;; JavaScript pass, so the same f32 scores bit for bit. Returns the entries read.
  ;; The components go in chunks of at most `chunk`, three passes each. First, without a branch, the chunk's
  ;; components whose query weight is nonzero are listed at hit (u32[chunk]). Then the touch: one read of each listed
  ;; component's entry range start and of its first entry's block id and code, independent loads, so their cache
  ;; misses overlap; a branch per component on its weight, as one pass had, left each miss waiting behind the
  ;; mispredicted branch before it. Then the sums over the listed components, in component order.
  (func (export "summ16") (param $cs i32) (param $ce i32) (param $nb i32) (param $g0 i32) (param $q i32)
    (param $terms i32) (param $eoff i32) (param $eblk i32) (param $ecode i32) (param $smin i32) (param $sstep i32)
    (param $ws i32) (param $wc i32) (param $out i32) (param $hit i32) (param $chunk i32) (result i32)
    (local $c i32) (local $w f64) (local $e i32) (local $ee i32) (local $a i32) (local $n i32) (local $b i32)
    (local $stop i32) (local $m i32) (local $i i32) (local $t i32)
    (memory.fill (local.get $ws) (i32.const 0) (i32.shl (local.get $nb) (i32.const 3)))
    (memory.fill (local.get $wc) (i32.const 0) (i32.shl (local.get $nb) (i32.const 3)))
    (local.set $c (local.get $cs))
    (block $done
      (loop $next_chunk
        (br_if $done (i32.ge_u (local.get $c) (local.get $ce)))
        (local.set $stop (select (local.get $ce) (i32.add (local.get $c) (local.get $chunk))
          (i32.lt_u (i32.sub (local.get $ce) (local.get $c)) (local.get $chunk))))
        (local.set $m (i32.const 0))
        (loop $list
          (i32.store (i32.add (local.get $hit) (i32.shl (local.get $m) (i32.const 2))) (local.get $c))
          (local.set $m (i32.add (local.get $m) (f32.ne (f32.load (i32.add (local.get $q)
            (i32.shl (i32.load16_u (i32.add (local.get $terms) (i32.shl (local.get $c) (i32.const 1)))) (i32.const 2))))
            (f32.const 0))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $list (i32.lt_u (local.get $c) (local.get $stop))))
        (local.set $i (i32.const 0))
        (block $touched_all
          (loop $touch
            (br_if $touched_all (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $e (i32.load (i32.add (local.get $eoff)
              (i32.shl (i32.load (i32.add (local.get $hit) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2)))))
            (local.set $t (i32.add (local.get $t) (i32.add
              (i32.load16_u (i32.add (local.get $eblk) (i32.shl (local.get $e) (i32.const 1))))
              (i32.load8_u (i32.add (local.get $ecode) (local.get $e))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $touch)))
        (local.set $i (i32.const 0))
        (block $summed_all
          (loop $sum
            (br_if $summed_all (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $c (i32.load (i32.add (local.get $hit) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $w (f64.promote_f32 (f32.load (i32.add (local.get $q)
              (i32.shl (i32.load16_u (i32.add (local.get $terms) (i32.shl (local.get $c) (i32.const 1)))) (i32.const 2))))))
            (local.set $a (i32.add (local.get $eoff) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $e (i32.load (local.get $a)))
            (local.set $ee (i32.load offset=4 (local.get $a)))
            (local.set $n (i32.add (local.get $n) (i32.sub (local.get $ee) (local.get $e))))
            (block $entries_done
              (loop $entry
                (br_if $entries_done (i32.ge_u (local.get $e) (local.get $ee)))
                (local.set $a (i32.shl (i32.load16_u (i32.add (local.get $eblk) (i32.shl (local.get $e) (i32.const 1)))) (i32.const 3)))
                (f64.store (i32.add (local.get $ws) (local.get $a))
                  (f64.add (f64.load (i32.add (local.get $ws) (local.get $a))) (local.get $w)))
                (f64.store (i32.add (local.get $wc) (local.get $a))
                  (f64.add (f64.load (i32.add (local.get $wc) (local.get $a)))
                    (f64.mul (local.get $w) (f64.convert_i32_u (i32.load8_u (i32.add (local.get $ecode) (local.get $e)))))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $entry)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $sum)))
        (local.set $c (local.get $stop))
        (br $next_chunk)))
    (global.set $sink (i32.add (global.get $sink) (local.get $t)))
    (local.set $b (i32.const 0))
    (block $blocks_done
      (loop $block
        (br_if $blocks_done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $a (i32.shl (i32.add (local.get $g0) (local.get $b)) (i32.const 2)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 2)))
          (f32.demote_f64 (f64.add
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $smin) (local.get $a)))) (f64.load (i32.add (local.get $ws) (i32.shl (local.get $b) (i32.const 3)))))
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $sstep) (local.get $a)))) (f64.load (i32.add (local.get $wc) (i32.shl (local.get $b) (i32.const 3))))))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
    (local.get $n))

  ;; Summary scores of one posting list's nb blocks (global ids from g0) against the dense query at q, over the
  ;; transposed summaries (seismic-index.ts layout: components c in [cs, ce) with term ids at terms, entry ranges at
  ;; eoff, entries' local block ids (u16) at eblk and codes (u8) at ecode). ws/wc (f64[nb]) are zeroed, then for
  ;; each component whose query weight w is nonzero, each entry adds w to ws[block] and w·code to wc[block]; then
  ;; out[b] = f32(min[g0+b]·ws[b] + step[g0+b]·wc[b]). The same f64 operations in the same order as searcher.ts's
  ;; JavaScript pass, so the same f32 scores bit for bit. Returns the entries read.
  ;; The components go in chunks of at most `chunk`, three passes each. First, without a branch, the chunk's
  ;; components whose query weight is nonzero are listed at hit (u32[chunk]). Then the touch: one read of each listed
  ;; component's entry range start and of its first entry's block id and code, independent loads, so their cache
  ;; misses overlap; a branch per component on its weight, as one pass had, left each miss waiting behind the
  ;; mispredicted branch before it. Then the sums over the listed components, in component order.
  (func (export "summ32") (param $cs i32) (param $ce i32) (param $nb i32) (param $g0 i32) (param $q i32)
    (param $terms i32) (param $eoff i32) (param $eblk i32) (param $ecode i32) (param $smin i32) (param $sstep i32)
    (param $ws i32) (param $wc i32) (param $out i32) (param $hit i32) (param $chunk i32) (result i32)
    (local $c i32) (local $w f64) (local $e i32) (local $ee i32) (local $a i32) (local $n i32) (local $b i32)
    (local $stop i32) (local $m i32) (local $i i32) (local $t i32)
    (memory.fill (local.get $ws) (i32.const 0) (i32.shl (local.get $nb) (i32.const 3)))
    (memory.fill (local.get $wc) (i32.const 0) (i32.shl (local.get $nb) (i32.const 3)))
    (local.set $c (local.get $cs))
    (block $done
      (loop $next_chunk
        (br_if $done (i32.ge_u (local.get $c) (local.get $ce)))
        (local.set $stop (select (local.get $ce) (i32.add (local.get $c) (local.get $chunk))
          (i32.lt_u (i32.sub (local.get $ce) (local.get $c)) (local.get $chunk))))
        (local.set $m (i32.const 0))
        (loop $list
          (i32.store (i32.add (local.get $hit) (i32.shl (local.get $m) (i32.const 2))) (local.get $c))
          (local.set $m (i32.add (local.get $m) (f32.ne (f32.load (i32.add (local.get $q)
            (i32.shl (i32.load (i32.add (local.get $terms) (i32.shl (local.get $c) (i32.const 2)))) (i32.const 2))))
            (f32.const 0))))
          (local.set $c (i32.add (local.get $c) (i32.const 1)))
          (br_if $list (i32.lt_u (local.get $c) (local.get $stop))))
        (local.set $i (i32.const 0))
        (block $touched_all
          (loop $touch
            (br_if $touched_all (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $e (i32.load (i32.add (local.get $eoff)
              (i32.shl (i32.load (i32.add (local.get $hit) (i32.shl (local.get $i) (i32.const 2)))) (i32.const 2)))))
            (local.set $t (i32.add (local.get $t) (i32.add
              (i32.load16_u (i32.add (local.get $eblk) (i32.shl (local.get $e) (i32.const 1))))
              (i32.load8_u (i32.add (local.get $ecode) (local.get $e))))))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $touch)))
        (local.set $i (i32.const 0))
        (block $summed_all
          (loop $sum
            (br_if $summed_all (i32.ge_u (local.get $i) (local.get $m)))
            (local.set $c (i32.load (i32.add (local.get $hit) (i32.shl (local.get $i) (i32.const 2)))))
            (local.set $w (f64.promote_f32 (f32.load (i32.add (local.get $q)
              (i32.shl (i32.load (i32.add (local.get $terms) (i32.shl (local.get $c) (i32.const 2)))) (i32.const 2))))))
            (local.set $a (i32.add (local.get $eoff) (i32.shl (local.get $c) (i32.const 2))))
            (local.set $e (i32.load (local.get $a)))
            (local.set $ee (i32.load offset=4 (local.get $a)))
            (local.set $n (i32.add (local.get $n) (i32.sub (local.get $ee) (local.get $e))))
            (block $entries_done
              (loop $entry
                (br_if $entries_done (i32.ge_u (local.get $e) (local.get $ee)))
                (local.set $a (i32.shl (i32.load16_u (i32.add (local.get $eblk) (i32.shl (local.get $e) (i32.const 1)))) (i32.const 3)))
                (f64.store (i32.add (local.get $ws) (local.get $a))
                  (f64.add (f64.load (i32.add (local.get $ws) (local.get $a))) (local.get $w)))
                (f64.store (i32.add (local.get $wc) (local.get $a))
                  (f64.add (f64.load (i32.add (local.get $wc) (local.get $a)))
                    (f64.mul (local.get $w) (f64.convert_i32_u (i32.load8_u (i32.add (local.get $ecode) (local.get $e)))))))
                (local.set $e (i32.add (local.get $e) (i32.const 1)))
                (br $entry)))
            (local.set $i (i32.add (local.get $i) (i32.const 1)))
            (br $sum)))
        (local.set $c (local.get $stop))
        (br $next_chunk)))
    (global.set $sink (i32.add (global.get $sink) (local.get $t)))
    (local.set $b (i32.const 0))
    (block $blocks_done
      (loop $block
        (br_if $blocks_done (i32.ge_u (local.get $b) (local.get $nb)))
        (local.set $a (i32.shl (i32.add (local.get $g0) (local.get $b)) (i32.const 2)))
        (f32.store (i32.add (local.get $out) (i32.shl (local.get $b) (i32.const 2)))
          (f32.demote_f64 (f64.add
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $smin) (local.get $a)))) (f64.load (i32.add (local.get $ws) (i32.shl (local.get $b) (i32.const 3)))))
            (f64.mul (f64.promote_f32 (f32.load (i32.add (local.get $sstep) (local.get $a)))) (f64.load (i32.add (local.get $wc) (i32.shl (local.get $b) (i32.const 3))))))))
        (local.set $b (i32.add (local.get $b) (i32.const 1)))
        (br $block)))
    (local.get $n))
)
