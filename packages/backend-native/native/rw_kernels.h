/*
 * Kernel loops. Each rw_k_*.c file is compiled once per instruction set (RW_ISA=base / avx2);
 * rw_ops_init (rw_ops.c) picks the variant at load time from the CPU's features.
 */
#ifndef RW_KERNELS_H
#define RW_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#define RW_MAX_RANK 8

/* Op numbers are exported to JS by name (see rw_addon.c), never hard-coded there. */
#define RW_UNARY_OPS(X) \
  X(NEG) X(ABS) X(SQUARE) X(SQRT) X(RSQRT) X(RECIPROCAL) X(EXP) X(LOG) X(TANH) X(SIGMOID) \
  X(RELU) X(RELU6) X(LEAKY_RELU) X(STEP) X(ELU) X(ERF) X(SOFTPLUS) X(POW_SCALAR) X(LINEAR)
#define RW_BINARY_OPS(X) \
  X(ADD) X(SUB) X(MUL) X(DIV) X(POW) X(MAXIMUM) X(MINIMUM) X(SQUARED_DIFFERENCE) X(PRELU)
#define RW_REDUCE_OPS(X) X(SUM) X(MEAN) X(MAX) X(MIN) X(PROD)

#define RW_ENUM_UNARY(name) RW_UNARY_##name,
#define RW_ENUM_BINARY(name) RW_BINARY_##name,
#define RW_ENUM_REDUCE(name) RW_REDUCE_##name,
enum { RW_UNARY_OPS(RW_ENUM_UNARY) RW_UNARY_COUNT };
enum { RW_BINARY_OPS(RW_ENUM_BINARY) RW_BINARY_COUNT };
enum { RW_REDUCE_OPS(RW_ENUM_REDUCE) RW_REDUCE_COUNT };

/* Broadcast iteration: out is contiguous with `dims`; a and b are read with per-dim strides (0 = broadcast). */
typedef struct rw_nd {
  int rank;
  int64_t dims[RW_MAX_RANK];
  int64_t a_strides[RW_MAX_RANK];
  int64_t b_strides[RW_MAX_RANK];
} rw_nd;

typedef struct rw_adam_params {
  float beta1, beta2, one_minus_beta1, one_minus_beta2;
  float one_minus_acc_beta1, one_minus_acc_beta2, epsilon, neg_learning_rate, decay;
} rw_adam_params;

#define RW_KERNEL_LIST(X) \
  X(void, unary, (int op, const float *x, float *y, size_t begin, size_t end, float alpha)) \
  X(void, binary, (int op, const rw_nd *nd, const float *a, const float *b, float *out, size_t begin, size_t end)) \
  X(void, reduce, (int op, const float *x, float *out, size_t reduce_size, size_t inner, size_t begin, size_t end)) \
  X(void, softmax, (const float *x, float *y, size_t cols, size_t begin, size_t end)) \
  X(void, bias_rows, (float *c, const float *bias, size_t cols, size_t begin, size_t end)) \
  X(void, adam, (float *w, const float *g, float *m, float *v, const rw_adam_params *p, size_t begin, size_t end))

#define RW_CAT_(a, b) a##_##b
#define RW_CAT(a, b) RW_CAT_(a, b)

#define RW_DECLARE_KERNEL(ret, name, args) ret RW_CAT(rw_k_##name, base) args; ret RW_CAT(rw_k_##name, avx2) args;
RW_KERNEL_LIST(RW_DECLARE_KERNEL)

typedef struct rw_kernel_table {
#define RW_TABLE_FIELD(ret, name, args) ret(*name) args;
  RW_KERNEL_LIST(RW_TABLE_FIELD)
#undef RW_TABLE_FIELD
} rw_kernel_table;

#ifdef RW_ISA
#define RW_K(name) RW_CAT(rw_k_##name, RW_ISA)
#endif

#endif
