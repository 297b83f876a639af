/*
 * Matmul with a quantized frozen weight W [rows = out, cols = in] (nn.Linear layout), dequantized tile by tile inside
 * the kernel: each pool thread dequantizes a tile of W into its own small buffer and multiplies it with sgemm, so no
 * float32 copy of the whole W ever exists (tile: 64 rows × cols forward, rows × 64 columns backward).
 *
 *   forward:  y[n, rows] = a[n, cols] · Wᵀ
 *   backward: y[n, cols] = a[n, rows] · W
 *
 * Formats (core's quant/: the values are bitsandbytes', float32 operation for float32 operation, no FMA contraction):
 *   nf4:  two 4-bit codes per byte (high nibble first) over the flattened W; block b of 64 values has the scale
 *         dyn[qabsmax[b]] · absmax2[b / 256] + offset; value = nf4[code] · scale.
 *   int8: value = (code · row_stats[r]) · (1/127 in float32).
 *   bf16: the high 16 bits of the float32.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rw_blas.h"
#include "rw_napi.h"
#include "rw_ops.h"
#include "rw_pool.h"

enum { Q_NF4 = 0, Q_INT8 = 1, Q_BF16 = 2 };
enum { TILE_ROWS = 64, TILE_COLS = 64 };

typedef struct {
  int type;
  int64_t rows, cols;
  const uint8_t *data; /* nf4: packed codes; int8: int8 codes; bf16: uint16 words */
  const uint8_t *qabsmax;
  const float *scales; /* nf4: absmax2; int8: row_stats */
  float offset;
  const float *nf4;    /* 16 code values */
  const float *dyn;    /* 256 dynamic-map values */
} qweight;

/* W[r0:r1, c0:c1] into out, row-major with row length c1 - c0. */
static void dequant_tile(const qweight *w, int64_t r0, int64_t r1, int64_t c0, int64_t c1, float *out) {
  const int64_t width = c1 - c0;
  for (int64_t r = r0; r < r1; r++) {
    float *dst = out + (r - r0) * width;
    const int64_t base = r * w->cols;
    if (w->type == Q_NF4) {
      int64_t f = base + c0;
      const int64_t end = base + c1;
      while (f < end) {
        const int64_t block = f / 64;
        const int64_t stop = (block + 1) * 64 < end ? (block + 1) * 64 : end;
        const float product = w->dyn[w->qabsmax[block]] * w->scales[block / 256];
        const float scale = product + w->offset;
        for (; f < stop; f++) {
          const uint8_t byte = w->data[f >> 1];
          const int code = (f & 1) ? (byte & 0xF) : (byte >> 4);
          *dst++ = w->nf4[code] * scale;
        }
      }
    } else if (w->type == Q_INT8) {
      const int8_t *codes = (const int8_t *)w->data + base;
      const float stat = w->scales[r];
      const float inv127 = 7.874015718698502e-3f;
      for (int64_t c = c0; c < c1; c++) {
        const float scaled = (float)codes[c] * stat;
        *dst++ = scaled * inv127;
      }
    } else {
      const uint16_t *bits = (const uint16_t *)w->data + base;
      for (int64_t c = c0; c < c1; c++) {
        const uint32_t word = (uint32_t)bits[c] << 16;
        float value;
        memcpy(&value, &word, sizeof value);
        *dst++ = value;
      }
    }
  }
}

typedef struct {
  const rw_blas *blas;
  const qweight *w;
  const float *a;
  float *y;
  int64_t n;
  int backward;
  int failed;
} qmm_ctx;

static void qmm_range(void *arg, size_t begin, size_t end) {
  qmm_ctx *g = arg;
  const qweight *w = g->w;
  if (!g->backward) {
    float *buf = malloc((size_t)TILE_ROWS * (size_t)w->cols * sizeof(float));
    if (!buf) {
      g->failed = 1;
      return;
    }
    for (size_t t = begin; t < end; t++) {
      const int64_t r0 = (int64_t)t * TILE_ROWS;
      const int64_t r1 = r0 + TILE_ROWS < w->rows ? r0 + TILE_ROWS : w->rows;
      dequant_tile(w, r0, r1, 0, w->cols, buf); /* [r1 - r0, cols] */
      /* y[:, r0:r1] = a[n, cols] · buf[r1 - r0, cols]ᵀ */
      g->blas->sgemm(RW_CBLAS_ROW_MAJOR, RW_CBLAS_NO_TRANS, RW_CBLAS_TRANS, (int)g->n, (int)(r1 - r0), (int)w->cols, 1.0f, g->a,
                     (int)w->cols, buf, (int)w->cols, 0.0f, g->y + r0, (int)w->rows);
    }
    free(buf);
  } else {
    float *buf = malloc((size_t)TILE_COLS * (size_t)w->rows * sizeof(float));
    if (!buf) {
      g->failed = 1;
      return;
    }
    for (size_t t = begin; t < end; t++) {
      const int64_t c0 = (int64_t)t * TILE_COLS;
      const int64_t c1 = c0 + TILE_COLS < w->cols ? c0 + TILE_COLS : w->cols;
      dequant_tile(w, 0, w->rows, c0, c1, buf); /* [rows, c1 - c0] */
      /* y[:, c0:c1] = a[n, rows] · buf[rows, c1 - c0] */
      g->blas->sgemm(RW_CBLAS_ROW_MAJOR, RW_CBLAS_NO_TRANS, RW_CBLAS_NO_TRANS, (int)g->n, (int)(c1 - c0), (int)w->rows, 1.0f, g->a,
                     (int)w->rows, buf, (int)(c1 - c0), 0.0f, g->y + c0, (int)w->cols);
    }
    free(buf);
  }
}

/* Any typed array: its data and length in bytes. */
static int bytes_of(napi_env env, napi_value value, void **data, size_t *bytes) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t length = 0;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, &length, data, NULL, NULL) != napi_ok) {
    rw_throw(env, "qmatmul: expected a typed array");
    return -1;
  }
  size_t size = 1;
  switch (type) {
    case napi_int16_array:
    case napi_uint16_array:
      size = 2;
      break;
    case napi_int32_array:
    case napi_uint32_array:
    case napi_float32_array:
      size = 4;
      break;
    case napi_float64_array:
    case napi_bigint64_array:
    case napi_biguint64_array:
      size = 8;
      break;
    default:
      size = 1;
  }
  *bytes = length * size;
  return 0;
}

/*
 * qmatmul(backward, a, y, n, rows, cols, type, data, qabsmax, scales, offset, nf4Code, absmaxCode)
 * nf4Code: the 16 NF4 values, absmaxCode: the 256 dynamic-map values (nf4 only). Every length is checked.
 */
static napi_value qmatmul(napi_env env, napi_callback_info cb) {
  napi_value argv[13];
  if (rw_args(env, cb, 13, argv)) return NULL;
  int backward;
  int64_t n, rows, cols, type;
  double offset;
  float *a, *y, *scales, *code, *absmax_code;
  size_t la, ly, ls, lc, lac, data_bytes, qabsmax_bytes;
  void *data, *qabsmax;
  if (rw_bool(env, argv[0], &backward) || rw_f32(env, argv[1], &a, &la) || rw_f32(env, argv[2], &y, &ly) ||
      rw_int(env, argv[3], &n) || rw_int(env, argv[4], &rows) || rw_int(env, argv[5], &cols) || rw_int(env, argv[6], &type) ||
      bytes_of(env, argv[7], &data, &data_bytes) || bytes_of(env, argv[8], &qabsmax, &qabsmax_bytes) ||
      rw_f32(env, argv[9], &scales, &ls) || rw_num(env, argv[10], &offset) || rw_f32(env, argv[11], &code, &lc) ||
      rw_f32(env, argv[12], &absmax_code, &lac))
    return NULL;
  const rw_blas *blas = rw_loaded_blas();
  if (!blas) return rw_throw(env, "qmatmul: BLAS not loaded (call init first)");
  if (n < 0 || rows < 1 || cols < 1 || n >= (1LL << 31) || rows >= (1LL << 31) || cols >= (1LL << 31) || type < 0 || type > 2)
    return rw_throw(env, "qmatmul: bad sizes or type");
  const uint64_t count = (uint64_t)rows * (uint64_t)cols;
  const uint64_t in_len = (uint64_t)n * (uint64_t)(backward ? rows : cols);
  const uint64_t out_len = (uint64_t)n * (uint64_t)(backward ? cols : rows);
  if (la < in_len || ly < out_len) return rw_throw(env, "qmatmul: input or output array too short");
  if (type == Q_NF4) {
    if (lc < 16 || lac < 256) return rw_throw(env, "qmatmul: nf4 code tables too short");
    const uint64_t blocks = (count + 63) / 64;
    if (data_bytes < (count + 1) / 2 || qabsmax_bytes < blocks || ls < (blocks + 255) / 256)
      return rw_throw(env, "qmatmul: nf4 arrays too short");
  } else if (type == Q_INT8) {
    if (data_bytes < count || ls < (uint64_t)rows) return rw_throw(env, "qmatmul: int8 arrays too short");
  } else if (data_bytes < 2 * count) {
    return rw_throw(env, "qmatmul: bf16 array too short");
  }
  if (n == 0) return rw_undefined(env);
  qweight w = {(int)type, rows, cols, data, qabsmax, scales, (float)offset, code, absmax_code};
  qmm_ctx g = {blas, &w, a, y, n, backward, 0};
  const size_t tiles = backward ? (size_t)((cols + TILE_COLS - 1) / TILE_COLS) : (size_t)((rows + TILE_ROWS - 1) / TILE_ROWS);
  if (rw_gemm_threading_mode() == RW_GEMM_THREADS_BLAS || rw_pool_threads() <= 1) qmm_range(&g, 0, tiles);
  else rw_parallel_for(tiles, 1, 1, qmm_range, &g);
  if (g.failed) return rw_throw(env, "qmatmul: out of memory for a tile");
  return rw_undefined(env);
}

void rw_register_quant(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "qmatmul", NAPI_AUTO_LENGTH, qmatmul, NULL, &fn);
  rw_set_named(env, exports, "qmatmul", fn);
}
