/*
 * Branch-free float32 exp/log/tanh (Cephes polynomials, ~1-2 ulp) written so that GCC and clang
 * auto-vectorise loops calling them (libm calls would keep those loops scalar).
 */
#ifndef RW_MATHF_H
#define RW_MATHF_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#ifdef __FMA__
#define RW_FMA(a, b, c) fmaf((a), (b), (c))
#else
#define RW_FMA(a, b, c) ((a) * (b) + (c))
#endif

static inline float rw_as_float(int32_t bits) {
  float f;
  memcpy(&f, &bits, sizeof f);
  return f;
}

static inline int32_t rw_as_int(float f) {
  int32_t bits;
  memcpy(&bits, &f, sizeof bits);
  return bits;
}

/* e^x; 0 below -104 (beyond the smallest subnormal), +inf above 88.72, NaN stays NaN. */
static inline float rw_expf(float x) {
  const float hi = 88.72283935546875f, lo = -104.0f;
  float xc = x > hi ? hi : x;
  xc = xc < lo ? lo : xc;
  /* n = round(x / ln 2) by the 1.5 * 2^23 trick (round to nearest even, no roundps needed). */
  const float magic = 12582912.0f;
  float n = (xc * 1.44269504088896341f + magic) - magic;
  float r = xc - n * 0.693359375f;
  r = r - n * -2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = RW_FMA(p, r, 1.3981999507e-3f);
  p = RW_FMA(p, r, 8.3334519073e-3f);
  p = RW_FMA(p, r, 4.1665795894e-2f);
  p = RW_FMA(p, r, 1.6666665459e-1f);
  p = RW_FMA(p, r, 5.0000001201e-1f);
  p = RW_FMA(p, r * r, r) + 1.0f;
  /* 2^n as two factors so that subnormal results (n < -126) are still produced. */
  int32_t ni = (int32_t)n;
  int32_t n1 = ni / 2;
  int32_t n2 = ni - n1;
  float result = p * rw_as_float((n1 + 127) << 23) * rw_as_float((n2 + 127) << 23);
  result = x > hi ? INFINITY : result;
  result = x < lo ? 0.0f : result;
  return x != x ? x : result;
}

/* Natural log; -inf at 0, NaN below 0, +inf at +inf, subnormals handled. */
static inline float rw_logf(float x) {
  int subnormal = x < 1.17549435e-38f;
  float xs = subnormal ? x * 8388608.0f : x;
  int32_t bits = rw_as_int(xs);
  float e = (float)(((bits >> 23) & 0xff) - 126 - (subnormal ? 23 : 0));
  float m = rw_as_float((bits & 0x007fffff) | 0x3f000000); /* [0.5, 1) */
  int small = m < 0.707106781186547524f;
  e = small ? e - 1.0f : e;
  m = small ? m + m - 1.0f : m - 1.0f;
  float z = m * m;
  float y = 7.0376836292e-2f;
  y = RW_FMA(y, m, -1.1514610310e-1f);
  y = RW_FMA(y, m, 1.1676998740e-1f);
  y = RW_FMA(y, m, -1.2420140846e-1f);
  y = RW_FMA(y, m, 1.4249322787e-1f);
  y = RW_FMA(y, m, -1.6668057665e-1f);
  y = RW_FMA(y, m, 2.0000714765e-1f);
  y = RW_FMA(y, m, -2.4999993993e-1f);
  y = RW_FMA(y, m, 3.3333331174e-1f);
  y = y * m * z;
  y = RW_FMA(e, -2.12194440e-4f, y);
  y = RW_FMA(z, -0.5f, y);
  float result = m + y;
  result = RW_FMA(e, 0.693359375f, result);
  result = x == INFINITY ? INFINITY : result;
  result = x == 0.0f ? -INFINITY : result;
  result = x < 0.0f ? NAN : result;
  return x != x ? x : result;
}

/* tanh: odd polynomial below |x| = 0.625, 1 - 2 / (e^2|x| + 1) above. */
static inline float rw_tanhf(float x) {
  float ax = fabsf(x);
  float z = x * x;
  float p = -5.70498872745e-3f;
  p = RW_FMA(p, z, 2.06390887954e-2f);
  p = RW_FMA(p, z, -5.37397155531e-2f);
  p = RW_FMA(p, z, 1.33314422036e-1f);
  p = RW_FMA(p, z, -3.33332819422e-1f);
  float small = RW_FMA(p * z, x, x);
  float big = 1.0f - 2.0f / (rw_expf(2.0f * (ax > 44.0f ? 44.0f : ax)) + 1.0f);
  big = copysignf(big, x);
  return ax < 0.625f ? small : big;
}

static inline float rw_sigmoidf(float x) { return 1.0f / (1.0f + rw_expf(-x)); }

#endif
