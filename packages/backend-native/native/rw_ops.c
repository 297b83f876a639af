#include "rw_ops.h"

#include "rw_pool.h"

static rw_kernel_table kernels;

#define RW_FILL_BASE(ret, name, args) kernels.name = rw_k_##name##_base;
#define RW_FILL_AVX2(ret, name, args) kernels.name = rw_k_##name##_avx2;

const char *rw_ops_init(int force_base) {
  RW_KERNEL_LIST(RW_FILL_BASE)
#if defined(RW_HAVE_AVX2) && (defined(__x86_64__) || defined(__i386__))
  __builtin_cpu_init();
  if (!force_base && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    RW_KERNEL_LIST(RW_FILL_AVX2)
    return "avx2+fma";
  }
#else
  (void)force_base;
#endif
  return "baseline";
}

typedef struct {
  int op;
  const float *x;
  float *y;
  float alpha;
} unary_ctx;

static void unary_range(void *arg, size_t begin, size_t end) {
  const unary_ctx *c = arg;
  kernels.unary(c->op, c->x, c->y, begin, end, c->alpha);
}

void rw_unary(int op, const float *x, float *y, size_t n, float alpha) {
  unary_ctx c = {op, x, y, alpha};
  /* Transcendental ops are compute bound: worth splitting earlier. */
  size_t grain = (op == RW_UNARY_EXP || op == RW_UNARY_LOG || op == RW_UNARY_TANH || op == RW_UNARY_SIGMOID ||
                  op == RW_UNARY_ERF || op == RW_UNARY_SOFTPLUS || op == RW_UNARY_ELU)
                     ? RW_GRAIN / 4
                     : RW_GRAIN;
  rw_parallel_for(n, grain, 16, unary_range, &c);
}

typedef struct {
  int op;
  const rw_nd *nd;
  const float *a, *b;
  float *out;
} binary_ctx;

static void binary_range(void *arg, size_t begin, size_t end) {
  const binary_ctx *c = arg;
  kernels.binary(c->op, c->nd, c->a, c->b, c->out, begin, end);
}

void rw_binary(int op, const rw_nd *nd, const float *a, const float *b, float *out, size_t n) {
  binary_ctx c = {op, nd, a, b, out};
  rw_parallel_for(n, op == RW_BINARY_POW ? RW_GRAIN / 16 : RW_GRAIN, 16, binary_range, &c);
}

typedef struct {
  int op;
  const float *x;
  float *out;
  size_t r, inner;
} reduce_ctx;

static void reduce_range(void *arg, size_t begin, size_t end) {
  const reduce_ctx *c = arg;
  kernels.reduce(c->op, c->x, c->out, c->r, c->inner, begin, end);
}

void rw_reduce(int op, const float *x, float *out, size_t outer, size_t reduce_size, size_t inner) {
  reduce_ctx c = {op, x, out, reduce_size, inner};
  size_t per_output = reduce_size ? reduce_size : 1;
  size_t grain = per_output >= RW_GRAIN ? 1 : RW_GRAIN / per_output;
  if (inner > 1 && outer == 1) {
    /* Column sums read every row once per chunk: few, wide chunks (one per thread) keep rows contiguous. */
    size_t threads = (size_t)rw_pool_threads();
    size_t wide = (inner + threads - 1) / threads;
    if (wide < 64) wide = 64;
    if (grain < wide) grain = wide;
  }
  rw_parallel_for(outer * inner, grain, inner > 1 ? 16 : 1, reduce_range, &c);
}

typedef struct {
  const float *x;
  float *y;
  size_t cols;
} softmax_ctx;

static void softmax_range(void *arg, size_t begin, size_t end) {
  const softmax_ctx *c = arg;
  kernels.softmax(c->x, c->y, c->cols, begin, end);
}

void rw_softmax(const float *x, float *y, size_t rows, size_t cols) {
  softmax_ctx c = {x, y, cols};
  size_t grain = cols >= RW_GRAIN / 4 ? 1 : (RW_GRAIN / 4) / cols;
  rw_parallel_for(rows, grain, 1, softmax_range, &c);
}

typedef struct {
  float *c;
  const float *bias;
  size_t cols;
} bias_ctx;

static void bias_range(void *arg, size_t begin, size_t end) {
  const bias_ctx *b = arg;
  kernels.bias_rows(b->c, b->bias, b->cols, begin, end);
}

void rw_bias_rows(float *c, const float *bias, size_t rows, size_t cols) {
  bias_ctx b = {c, bias, cols};
  size_t grain = cols >= RW_GRAIN ? 1 : RW_GRAIN / cols;
  rw_parallel_for(rows, grain, 1, bias_range, &b);
}

typedef struct {
  float *w;
  const float *g;
  float *m, *v;
  const rw_adam_params *p;
} adam_ctx;

static void adam_range(void *arg, size_t begin, size_t end) {
  const adam_ctx *a = arg;
  kernels.adam(a->w, a->g, a->m, a->v, a->p, begin, end);
}

void rw_adam(float *w, const float *g, float *m, float *v, const rw_adam_params *p, size_t n) {
  adam_ctx a = {w, g, m, v, p};
  rw_parallel_for(n, RW_GRAIN, 16, adam_range, &a);
}
