/* Node-API bindings of the kernels. Every length is checked here: JS mistakes must not overrun memory. */
#include <stdio.h>

#include "rw_blas.h"
#include "rw_layout.h"
#include "rw_napi.h"
#include "rw_ops.h"

#define ARGS(n)                       \
  napi_value argv[n];                 \
  if (rw_args(env, cb, n, argv)) return NULL;
#define CHECK(cond, msg) \
  if (!(cond)) return rw_throw(env, msg);

/* a * b * c <= limit, for non-negative a, b, c, without overflow. */
static int fits(int64_t a, int64_t b, int64_t c, size_t limit) {
  uint64_t ab, abc;
  if (a < 0 || b < 0 || c < 0) return 0;
  if (__builtin_mul_overflow((uint64_t)a, (uint64_t)b, &ab) || __builtin_mul_overflow(ab, (uint64_t)c, &abc)) return 0;
  return abc <= (uint64_t)limit;
}

/* sgemm(transA, transB, m, n, k, a, b, c, batch, batchA, batchB) */
static napi_value sgemm(napi_env env, napi_callback_info cb) {
  ARGS(11)
  int ta, tb;
  int64_t m, n, k, batch, batch_a, batch_b;
  float *a, *b, *c;
  size_t la, lb, lc;
  if (rw_bool(env, argv[0], &ta) || rw_bool(env, argv[1], &tb) || rw_int(env, argv[2], &m) ||
      rw_int(env, argv[3], &n) || rw_int(env, argv[4], &k) || rw_f32(env, argv[5], &a, &la) ||
      rw_f32(env, argv[6], &b, &lb) || rw_f32(env, argv[7], &c, &lc) || rw_int(env, argv[8], &batch) ||
      rw_int(env, argv[9], &batch_a) || rw_int(env, argv[10], &batch_b))
    return NULL;
  const rw_blas *blas = rw_loaded_blas();
  CHECK(blas, "sgemm: BLAS not loaded (call init first)")
  CHECK(m >= 0 && n >= 0 && k >= 0 && m < (1LL << 31) && n < (1LL << 31) && k < (1LL << 31), "sgemm: bad sizes")
  CHECK(batch_a >= 1 && batch_b >= 1 && batch >= 0, "sgemm: bad batch sizes")
  CHECK(fits(batch_a, m, k, la) && fits(batch_b, k, n, lb) && fits(batch, m, n, lc), "sgemm: array too short")
  rw_sgemm_batched(blas, (rw_gemm_threading)rw_gemm_threading_mode(), ta, tb, (int)m, (int)n, (int)k, a, b, c,
                   (size_t)batch, (size_t)batch_a, (size_t)batch_b);
  return rw_undefined(env);
}

/* unary(op, x, y, alpha): y[i] = f(x[i]) for i < y.length (x may be y). */
static napi_value unary(napi_env env, napi_callback_info cb) {
  ARGS(4)
  int64_t op;
  double alpha;
  float *x, *y;
  size_t lx, ly;
  if (rw_int(env, argv[0], &op) || rw_f32(env, argv[1], &x, &lx) || rw_f32(env, argv[2], &y, &ly) ||
      rw_num(env, argv[3], &alpha))
    return NULL;
  CHECK(op >= 0 && op < RW_UNARY_COUNT, "unary: unknown op")
  CHECK(lx >= ly, "unary: input shorter than output")
  rw_unary((int)op, x, y, ly, (float)alpha);
  return rw_undefined(env);
}

/* Largest offset a strided walk over dims reaches, if it stays below limit (else -1). */
static int64_t reach(const int64_t *dims, const int64_t *strides, int rank, size_t limit) {
  uint64_t total = 0, term;
  for (int d = 0; d < rank; d++) {
    if (__builtin_mul_overflow((uint64_t)(dims[d] - 1), (uint64_t)strides[d], &term) ||
        __builtin_add_overflow(total, term, &total) || total >= (uint64_t)limit)
      return -1;
  }
  return (int64_t)total;
}

enum { WALK_OK, WALK_BAD_DIMS, WALK_OUT_SHORT, WALK_IN_SHORT };

/*
 * Checks strided walks over dims (rank >= 1) writing a contiguous output of out_len elements:
 * dims >= 1, every stride >= 0, prod(dims) <= out_len, and walk s stays below in_len[s].
 * Returns WALK_OK (*total = prod(dims)) or the first check that failed.
 */
static int check_walk(const int64_t *dims, int rank, int sets, const int64_t *const *strides, const size_t *in_len,
                      size_t out_len, size_t *total) {
  size_t count = 1;
  for (int d = 0; d < rank; d++) {
    if (dims[d] < 1) return WALK_BAD_DIMS;
    for (int s = 0; s < sets; s++)
      if (strides[s][d] < 0) return WALK_BAD_DIMS;
    if (!fits((int64_t)count, dims[d], 1, out_len)) return WALK_OUT_SHORT;
    count *= (size_t)dims[d];
  }
  for (int s = 0; s < sets; s++)
    if (reach(dims, strides[s], rank, in_len[s]) < 0) return WALK_IN_SHORT;
  *total = count;
  return WALK_OK;
}

/* Reads [rank, dims..., aStrides..., bStrides...]; checks out (lo) and both inputs are long enough. */
static int read_nd(napi_env env, napi_value spec_value, rw_nd *nd, size_t la, size_t lb, size_t lo, size_t *total) {
  double *spec;
  size_t ls;
  if (rw_f64(env, spec_value, &spec, &ls)) return -1;
  int rank = ls > 0 ? (int)spec[0] : 0;
  if (rank < 1 || rank > RW_MAX_RANK || ls < (size_t)(1 + 3 * rank)) {
    rw_throw(env, "binary: bad broadcast spec");
    return -1;
  }
  nd->rank = rank;
  for (int d = 0; d < rank; d++) {
    nd->dims[d] = (int64_t)spec[1 + d];
    nd->a_strides[d] = (int64_t)spec[1 + rank + d];
    nd->b_strides[d] = (int64_t)spec[1 + 2 * rank + d];
  }
  const int64_t *const strides[2] = {nd->a_strides, nd->b_strides};
  const size_t in_len[2] = {la, lb};
  switch (check_walk(nd->dims, rank, 2, strides, in_len, lo, total)) {
    case WALK_OK:
      return 0;
    case WALK_IN_SHORT:
      rw_throw(env, "binary: input too short for the broadcast spec");
      return -1;
    default:
      rw_throw(env, "binary: bad broadcast spec or output too short");
      return -1;
  }
}

/* binary(op, a, b, out, spec: Float64Array) */
static napi_value binary(napi_env env, napi_callback_info cb) {
  ARGS(5)
  int64_t op;
  float *a, *b, *out;
  size_t la, lb, lo, total;
  rw_nd nd;
  if (rw_int(env, argv[0], &op) || rw_f32(env, argv[1], &a, &la) || rw_f32(env, argv[2], &b, &lb) ||
      rw_f32(env, argv[3], &out, &lo) || read_nd(env, argv[4], &nd, la, lb, lo, &total))
    return NULL;
  CHECK(op >= 0 && op < RW_BINARY_COUNT, "binary: unknown op")
  rw_binary((int)op, &nd, a, b, out, total);
  return rw_undefined(env);
}

/* reduce(op, x, out, outer, reduceSize, inner) */
static napi_value reduce(napi_env env, napi_callback_info cb) {
  ARGS(6)
  int64_t op, outer, r, inner;
  float *x, *out;
  size_t lx, lo;
  if (rw_int(env, argv[0], &op) || rw_f32(env, argv[1], &x, &lx) || rw_f32(env, argv[2], &out, &lo) ||
      rw_int(env, argv[3], &outer) || rw_int(env, argv[4], &r) || rw_int(env, argv[5], &inner))
    return NULL;
  CHECK(op >= 0 && op < RW_REDUCE_COUNT, "reduce: unknown op")
  CHECK(outer >= 0 && r >= 1 && inner >= 1, "reduce: bad sizes")
  CHECK(fits(outer, r, inner, lx) && fits(outer, inner, 1, lo), "reduce: array too short")
  rw_reduce((int)op, x, out, (size_t)outer, (size_t)r, (size_t)inner);
  return rw_undefined(env);
}

/* softmax(x, y, rows, cols) over the last axis */
static napi_value softmax(napi_env env, napi_callback_info cb) {
  ARGS(4)
  int64_t rows, cols;
  float *x, *y;
  size_t lx, ly;
  if (rw_f32(env, argv[0], &x, &lx) || rw_f32(env, argv[1], &y, &ly) || rw_int(env, argv[2], &rows) ||
      rw_int(env, argv[3], &cols))
    return NULL;
  CHECK(cols >= 1 && fits(rows, cols, 1, lx) && fits(rows, cols, 1, ly), "softmax: bad sizes")
  rw_softmax(x, y, (size_t)rows, (size_t)cols);
  return rw_undefined(env);
}

/* biasRows(c, bias, rows, cols): c[r, :] += bias */
static napi_value bias_rows(napi_env env, napi_callback_info cb) {
  ARGS(4)
  int64_t rows, cols;
  float *c, *bias;
  size_t lc, lb;
  if (rw_f32(env, argv[0], &c, &lc) || rw_f32(env, argv[1], &bias, &lb) || rw_int(env, argv[2], &rows) ||
      rw_int(env, argv[3], &cols))
    return NULL;
  CHECK(cols >= 1 && fits(rows, cols, 1, lc) && (size_t)cols <= lb, "biasRows: bad sizes")
  rw_bias_rows(c, bias, (size_t)rows, (size_t)cols);
  return rw_undefined(env);
}

/* adam(w, g, m, v, params: Float32Array[9]) updates w, m, v in place */
static napi_value adam(napi_env env, napi_callback_info cb) {
  ARGS(5)
  float *w, *g, *m, *v, *p;
  size_t lw, lg, lm, lv, lp;
  if (rw_f32(env, argv[0], &w, &lw) || rw_f32(env, argv[1], &g, &lg) || rw_f32(env, argv[2], &m, &lm) ||
      rw_f32(env, argv[3], &v, &lv) || rw_f32(env, argv[4], &p, &lp))
    return NULL;
  CHECK(lg >= lw && lm >= lw && lv >= lw && lp >= 9, "adam: array too short")
  rw_adam_params params = {p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8]};
  rw_adam(w, g, m, v, &params, lw);
  return rw_undefined(env);
}

/* transpose(x, out, dims: Float64Array, strides: Float64Array): 4-byte elements */
static napi_value transpose(napi_env env, napi_callback_info cb) {
  ARGS(4)
  uint32_t *x, *out;
  double *dims_d, *strides_d;
  size_t lx, lo, ld, ls;
  if (rw_any32(env, argv[0], &x, &lx) || rw_any32(env, argv[1], &out, &lo) || rw_f64(env, argv[2], &dims_d, &ld) ||
      rw_f64(env, argv[3], &strides_d, &ls))
    return NULL;
  CHECK(ld == ls && ld >= 1 && ld <= RW_MAX_RANK, "transpose: bad rank")
  int64_t dims[RW_MAX_RANK], strides[RW_MAX_RANK];
  for (size_t d = 0; d < ld; d++) {
    dims[d] = (int64_t)dims_d[d];
    strides[d] = (int64_t)strides_d[d];
  }
  const int64_t *const stride_sets[1] = {strides};
  size_t total;
  int walk = check_walk(dims, (int)ld, 1, stride_sets, &lx, lo, &total);
  CHECK(walk != WALK_BAD_DIMS, "transpose: bad dims")
  CHECK(walk != WALK_OUT_SHORT, "transpose: output too short")
  CHECK(walk != WALK_IN_SHORT, "transpose: input too short")
  rw_transpose32(x, out, (int)ld, dims, strides);
  return rw_undefined(env);
}

/* gather(params, indices, out, outer, axisDim, inner) -> -1 or the position of an out-of-range index */
static napi_value gather(napi_env env, napi_callback_info cb) {
  ARGS(6)
  uint32_t *params, *out;
  int32_t *indices;
  int64_t outer, axis_dim, inner;
  size_t lp, li, lo;
  if (rw_any32(env, argv[0], &params, &lp) || rw_i32(env, argv[1], &indices, &li) ||
      rw_any32(env, argv[2], &out, &lo) || rw_int(env, argv[3], &outer) || rw_int(env, argv[4], &axis_dim) ||
      rw_int(env, argv[5], &inner))
    return NULL;
  CHECK(outer >= 0 && axis_dim >= 0 && inner >= 0, "gather: bad sizes")
  CHECK(fits(outer, axis_dim, inner, lp) && fits(outer, (int64_t)li, inner, lo), "gather: array too short")
  int64_t bad = rw_gather32(params, indices, out, (size_t)outer, (size_t)axis_dim, (size_t)inner, li);
  napi_value result;
  napi_create_double(env, (double)bad, &result);
  return result;
}

/* segmentSum(data, ids, out, inner, numSegments): out[numSegments, inner] */
static napi_value segment_sum(napi_env env, napi_callback_info cb) {
  ARGS(5)
  float *data, *out;
  int32_t *ids;
  int64_t inner, segments;
  size_t ld, li, lo;
  if (rw_f32(env, argv[0], &data, &ld) || rw_i32(env, argv[1], &ids, &li) || rw_f32(env, argv[2], &out, &lo) ||
      rw_int(env, argv[3], &inner) || rw_int(env, argv[4], &segments))
    return NULL;
  CHECK(inner >= 1 && segments >= 0, "segmentSum: bad sizes")
  CHECK(fits((int64_t)li, inner, 1, ld) && fits(segments, inner, 1, lo), "segmentSum: array too short")
  CHECK(rw_unsorted_segment_sum(data, ids, out, li, (size_t)inner, (size_t)segments) == 0, "segmentSum: out of memory")
  return rw_undefined(env);
}

void rw_register_ops(napi_env env, napi_value exports) {
  const struct {
    const char *name;
    napi_callback fn;
  } fns[] = {{"sgemm", sgemm},     {"unary", unary},         {"binary", binary}, {"reduce", reduce},
             {"softmax", softmax}, {"biasRows", bias_rows},  {"adam", adam},     {"transpose", transpose},
             {"gather", gather},   {"segmentSum", segment_sum}};
  for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
    napi_value fn;
    napi_create_function(env, fns[i].name, NAPI_AUTO_LENGTH, fns[i].fn, NULL, &fn);
    rw_set_named(env, exports, fns[i].name, fn);
  }
}
