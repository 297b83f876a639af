/* Unary and broadcasting binary float32 loops (compiled once per instruction set, see rw_kernels.h). */
#include <math.h>

#include "rw_kernels.h"
#include "rw_mathf.h"

#define LOOP(EXPR)                              \
  for (size_t i = begin; i < end; i++) {        \
    float v = x[i];                             \
    y[i] = (EXPR);                              \
  }                                             \
  break;

/* TensorFlow.js's Erf (Abramowitz & Stegun 7.1.26), in double as tfjs computes it. */
static float erf_as_tfjs(float value) {
  const double p = 0.3275911, a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027,
               a5 = 1.061405429;
  double xv = value;
  double sign = xv > 0 ? 1.0 : (xv < 0 ? -1.0 : xv); /* Math.sign: keeps 0 and NaN */
  double v = fabs(xv);
  double t = 1.0 / (1.0 + p * v);
  return (float)(sign * (1.0 - (((((a5 * t + a4) * t) + a3) * t + a2) * t + a1) * t * exp(-v * v)));
}

static float softplus_as_tfjs(float value) {
  const double threshold = -13.942385152878742; /* log(2^-23) + 2 */
  double xv = value;
  double e = exp(xv);
  if (xv < threshold) return (float)e;
  if (xv > -threshold) return value;
  return (float)log(1.0 + e);
}

static void pow_scalar(const float *x, float *y, size_t begin, size_t end, float exponent) {
  if (exponent == 2.0f) {
    for (size_t i = begin; i < end; i++) { double d = x[i]; y[i] = (float)(d * d); }
  } else if (exponent == 3.0f) {
    for (size_t i = begin; i < end; i++) { double d = x[i]; y[i] = (float)(d * d * d); }
  } else if (exponent == 1.0f) {
    for (size_t i = begin; i < end; i++) y[i] = x[i];
  } else if (exponent == 0.5f) {
    for (size_t i = begin; i < end; i++) y[i] = sqrtf(x[i]);
  } else if (exponent == -1.0f) {
    for (size_t i = begin; i < end; i++) y[i] = (float)(1.0 / (double)x[i]);
  } else {
    for (size_t i = begin; i < end; i++) y[i] = (float)pow((double)x[i], (double)exponent);
  }
}

void RW_K(unary)(int op, const float *x, float *y, size_t begin, size_t end, float alpha) {
  switch (op) {
    case RW_UNARY_NEG: LOOP(-v)
    case RW_UNARY_ABS: LOOP(fabsf(v))
    case RW_UNARY_SQUARE: LOOP(v * v)
    case RW_UNARY_SQRT: LOOP(sqrtf(v))
    case RW_UNARY_RSQRT: LOOP((float)(1.0 / sqrt((double)v)))
    case RW_UNARY_RECIPROCAL: LOOP(1.0f / v)
    case RW_UNARY_EXP: LOOP(rw_expf(v))
    case RW_UNARY_LOG: LOOP(rw_logf(v))
    case RW_UNARY_TANH: LOOP(rw_tanhf(v))
    case RW_UNARY_SIGMOID: LOOP(rw_sigmoidf(v))
    case RW_UNARY_RELU: LOOP(v < 0.0f ? 0.0f : v)
    case RW_UNARY_RELU6: LOOP(v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v))
    case RW_UNARY_LEAKY_RELU: LOOP(v < 0.0f ? alpha * v : v)
    case RW_UNARY_STEP: LOOP(v != v ? v : (v > 0.0f ? 1.0f : alpha))
    case RW_UNARY_ELU: LOOP(v >= 0.0f ? v : rw_expf(v) - 1.0f)
    case RW_UNARY_LINEAR: LOOP(v)
    case RW_UNARY_ERF:
      for (size_t i = begin; i < end; i++) y[i] = erf_as_tfjs(x[i]);
      break;
    case RW_UNARY_SOFTPLUS:
      for (size_t i = begin; i < end; i++) y[i] = softplus_as_tfjs(x[i]);
      break;
    case RW_UNARY_POW_SCALAR:
      pow_scalar(x, y, begin, end, alpha);
      break;
    default:
      break;
  }
}

/* One contiguous run of the output; a and b advance by sa / sb (each 0 or 1). */
#define BIN_LOOP(EXPR)                                                                      \
  if (sa && sb) {                                                                           \
    for (size_t i = 0; i < n; i++) { float av = a[i], bv = b[i]; out[i] = (EXPR); }         \
  } else if (sb) {                                                                          \
    const float av = a[0];                                                                  \
    for (size_t i = 0; i < n; i++) { float bv = b[i]; out[i] = (EXPR); }                    \
  } else if (sa) {                                                                          \
    const float bv = b[0];                                                                  \
    for (size_t i = 0; i < n; i++) { float av = a[i]; out[i] = (EXPR); }                    \
  } else {                                                                                  \
    const float av = a[0], bv = b[0];                                                       \
    const float r = (EXPR);                                                                 \
    for (size_t i = 0; i < n; i++) out[i] = r;                                              \
  }                                                                                         \
  break;

static float pow_as_tfjs(float a, float b) { return (float)pow((double)a, (double)b); }

static void binary_run(int op, const float *a, int64_t sa, const float *b, int64_t sb, float *out, size_t n) {
  switch (op) {
    case RW_BINARY_ADD: BIN_LOOP(av + bv)
    case RW_BINARY_SUB: BIN_LOOP(av - bv)
    case RW_BINARY_MUL: BIN_LOOP(av * bv)
    case RW_BINARY_DIV: BIN_LOOP(av / bv)
    case RW_BINARY_POW: BIN_LOOP(pow_as_tfjs(av, bv))
    case RW_BINARY_MAXIMUM: BIN_LOOP((av != av || bv != bv) ? av + bv : (av > bv ? av : bv))
    case RW_BINARY_MINIMUM: BIN_LOOP((av != av || bv != bv) ? av + bv : (av < bv ? av : bv))
    case RW_BINARY_SQUARED_DIFFERENCE: BIN_LOOP((float)(((double)av - bv) * ((double)av - bv)))
    case RW_BINARY_PRELU: BIN_LOOP(av < 0.0f ? bv * av : av)
    default:
      break;
  }
}

void RW_K(binary)(int op, const rw_nd *nd, const float *a, const float *b, float *out, size_t begin, size_t end) {
  const int rank = nd->rank;
  const int last = rank - 1;
  const size_t inner = (size_t)nd->dims[last];
  int64_t idx[RW_MAX_RANK];
  size_t rem = begin;
  for (int d = last; d >= 0; d--) {
    idx[d] = (int64_t)(rem % (size_t)nd->dims[d]);
    rem /= (size_t)nd->dims[d];
  }
  size_t pos = begin;
  while (pos < end) {
    int64_t a_off = 0, b_off = 0;
    for (int d = 0; d < rank; d++) {
      a_off += idx[d] * nd->a_strides[d];
      b_off += idx[d] * nd->b_strides[d];
    }
    size_t len = inner - (size_t)idx[last];
    if (len > end - pos) len = end - pos;
    binary_run(op, a + a_off, nd->a_strides[last], b + b_off, nd->b_strides[last], out + pos, len);
    pos += len;
    idx[last] = 0;
    for (int d = last - 1; d >= 0; d--) {
      if (++idx[d] < nd->dims[d]) break;
      idx[d] = 0;
    }
  }
}
