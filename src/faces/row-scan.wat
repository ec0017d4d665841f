;; Finds the next roster row that may lie within a squared distance of the query; built by `npm run build:wasm`.
;; Memory: the query (128 f32) at byte 0, row r at byte 512 * (r + 1). Sums are f32x4 and checked after every 32
;; values, so a far row is left after its first 128 bytes; row-scan.ts allows for the f32 rounding.
(module
  (import "env" "memory" (memory 1))
  (func (export "nextRowWithin") (param $row i32) (param $end i32) (param $limit f32) (result i32)
    (local $base i32) (local $i i32) (local $p i32) (local $sum v128) (local $d v128)
    (block $none
      (loop $rows
        (br_if $none (i32.ge_u (local.get $row) (local.get $end)))
        (local.set $base (i32.shl (i32.add (local.get $row) (i32.const 1)) (i32.const 9)))
        (local.set $sum (v128.const f32x4 0 0 0 0))
        (local.set $i (i32.const 0))
        (loop $blocks
          (local.set $p (i32.add (local.get $base) (local.get $i)))
          (local.set $d (f32x4.sub (v128.load offset=0 (local.get $p)) (v128.load offset=0 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=16 (local.get $p)) (v128.load offset=16 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=32 (local.get $p)) (v128.load offset=32 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=48 (local.get $p)) (v128.load offset=48 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=64 (local.get $p)) (v128.load offset=64 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=80 (local.get $p)) (v128.load offset=80 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=96 (local.get $p)) (v128.load offset=96 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $d (f32x4.sub (v128.load offset=112 (local.get $p)) (v128.load offset=112 (local.get $i))))
          (local.set $sum (f32x4.add (local.get $sum) (f32x4.mul (local.get $d) (local.get $d))))
          (local.set $i (i32.add (local.get $i) (i32.const 128)))
          (if (f32.gt
                (f32.add
                  (f32.add (f32x4.extract_lane 0 (local.get $sum)) (f32x4.extract_lane 1 (local.get $sum)))
                  (f32.add (f32x4.extract_lane 2 (local.get $sum)) (f32x4.extract_lane 3 (local.get $sum))))
                (local.get $limit))
            (then
              (local.set $row (i32.add (local.get $row) (i32.const 1)))
              (br $rows)))
          (br_if $blocks (i32.lt_u (local.get $i) (i32.const 512))))
        (return (local.get $row))))
    (local.get $end)))
