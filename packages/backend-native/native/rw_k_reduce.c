/* Reductions, softmax, bias rows and the fused Adam update (compiled once per instruction set). */
#include <math.h>

#include "rw_kernels.h"
#include "rw_mathf.h"

#define RW_COLS_CHUNK 256

/* Sum of a row in double (as tfjs accumulates), optionally of x / divisor rounded to float first (tfjs Mean). */
static double row_sum(const float *x, size_t n, int mean, float divisor) {
  double acc = 0.0;
  if (mean) {
#pragma omp simd reduction(+ : acc)
    for (size_t j = 0; j < n; j++) acc += (double)(x[j] / divisor);
  } else {
#pragma omp simd reduction(+ : acc)
    for (size_t j = 0; j < n; j++) acc += (double)x[j];
  }
  return acc;
}

/* Max (or min) of a row; NaN anywhere gives NaN like tfjs's maxImpl. */
static float row_extreme(const float *x, size_t n, int is_max) {
  float m = x[0];
  int nan = 0;
  if (is_max) {
#pragma omp simd reduction(max : m) reduction(| : nan)
    for (size_t j = 0; j < n; j++) {
      float v = x[j];
      nan |= v != v;
      m = v > m ? v : m;
    }
  } else {
#pragma omp simd reduction(min : m) reduction(| : nan)
    for (size_t j = 0; j < n; j++) {
      float v = x[j];
      nan |= v != v;
      m = v < m ? v : m;
    }
  }
  return nan ? NAN : m;
}

static float row_prod(const float *x, size_t n) {
  double acc = 1.0;
  for (size_t j = 0; j < n; j++) acc *= x[j];
  return (float)acc;
}

/* Output elements [begin, end) of an [outer, reduce_size, inner] reduction with inner > 1. */
static void reduce_columns(int op, const float *x, float *out, size_t r, size_t inner, size_t begin, size_t end) {
  const float divisor = (float)r;
  double acc[RW_COLS_CHUNK];
  float ext[RW_COLS_CHUNK];
  int nan[RW_COLS_CHUNK];
  size_t pos = begin;
  while (pos < end) {
    size_t o = pos / inner, c0 = pos % inner;
    size_t w = inner - c0;
    if (w > end - pos) w = end - pos;
    if (w > RW_COLS_CHUNK) w = RW_COLS_CHUNK;
    const float *base = x + o * r * inner + c0;
    if (op == RW_REDUCE_MAX || op == RW_REDUCE_MIN) {
      const int is_max = op == RW_REDUCE_MAX;
      for (size_t c = 0; c < w; c++) { ext[c] = base[c]; nan[c] = 0; }
      for (size_t j = 0; j < r; j++) {
        const float *row = base + j * inner;
        for (size_t c = 0; c < w; c++) {
          float v = row[c];
          nan[c] |= v != v;
          ext[c] = is_max ? (v > ext[c] ? v : ext[c]) : (v < ext[c] ? v : ext[c]);
        }
      }
      for (size_t c = 0; c < w; c++) out[pos + c] = nan[c] ? NAN : ext[c];
    } else {
      const double init = op == RW_REDUCE_PROD ? 1.0 : 0.0;
      for (size_t c = 0; c < w; c++) acc[c] = init;
      for (size_t j = 0; j < r; j++) {
        const float *row = base + j * inner;
        if (op == RW_REDUCE_SUM) {
          for (size_t c = 0; c < w; c++) acc[c] += (double)row[c];
        } else if (op == RW_REDUCE_MEAN) {
          for (size_t c = 0; c < w; c++) acc[c] += (double)(row[c] / divisor);
        } else {
          for (size_t c = 0; c < w; c++) acc[c] *= (double)row[c];
        }
      }
      for (size_t c = 0; c < w; c++) out[pos + c] = (float)acc[c];
    }
    pos += w;
  }
}

void RW_K(reduce)(int op, const float *x, float *out, size_t r, size_t inner, size_t begin, size_t end) {
  if (inner > 1) {
    reduce_columns(op, x, out, r, inner, begin, end);
    return;
  }
  for (size_t o = begin; o < end; o++) {
    const float *row = x + o * r;
    switch (op) {
      case RW_REDUCE_SUM: out[o] = (float)row_sum(row, r, 0, 1.0f); break;
      case RW_REDUCE_MEAN: out[o] = (float)row_sum(row, r, 1, (float)r); break;
      case RW_REDUCE_MAX: out[o] = row_extreme(row, r, 1); break;
      case RW_REDUCE_MIN: out[o] = row_extreme(row, r, 0); break;
      case RW_REDUCE_PROD: out[o] = row_prod(row, r); break;
      default: break;
    }
  }
}

/* Rows [begin, end) of a softmax over the last axis: tfjs's max, sub, exp, sum (double), div. */
void RW_K(softmax)(const float *x, float *y, size_t cols, size_t begin, size_t end) {
  for (size_t row = begin; row < end; row++) {
    const float *xr = x + row * cols;
    float *yr = y + row * cols;
    const float m = row_extreme(xr, cols, 1);
    for (size_t j = 0; j < cols; j++) yr[j] = rw_expf(xr[j] - m);
    const float s = (float)row_sum(yr, cols, 0, 1.0f);
    for (size_t j = 0; j < cols; j++) yr[j] = yr[j] / s;
  }
}

void RW_K(bias_rows)(float *c, const float *bias, size_t cols, size_t begin, size_t end) {
  for (size_t row = begin; row < end; row++) {
    float *cr = c + row * cols;
    for (size_t j = 0; j < cols; j++) cr[j] = cr[j] + bias[j];
  }
}

/*
 * tf.train.adam's update with every intermediate rounded to float32 in tfjs's order (build with
 * -ffp-contract=off so nothing is fused): m, v, bias-corrected m / (sqrt(v) + eps) * -lr + w.
 * decay > 0 first applies decoupled weight decay: w -= (lr * wd) * w.
 */
void RW_K(adam)(float *w, const float *g, float *m, float *v, const rw_adam_params *p, size_t begin, size_t end) {
  const float b1 = p->beta1, b2 = p->beta2, omb1 = p->one_minus_beta1, omb2 = p->one_minus_beta2;
  const float c1 = p->one_minus_acc_beta1, c2 = p->one_minus_acc_beta2, eps = p->epsilon, nlr = p->neg_learning_rate;
  const float decay = p->decay;
  for (size_t i = begin; i < end; i++) {
    const float gi = g[i];
    const float m1 = m[i] * b1 + gi * omb1;
    const float v1 = v[i] * b2 + (gi * gi) * omb2;
    const float mh = m1 / c1;
    const float vh = v1 / c2;
    const float step = (mh / (sqrtf(vh) + eps)) * nlr;
    float wi = w[i];
    if (decay != 0.0f) wi = wi - decay * wi;
    w[i] = step + wi;
    m[i] = m1;
    v[i] = v1;
  }
}
