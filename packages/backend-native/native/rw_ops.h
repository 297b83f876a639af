/* Whole-tensor operations: kernel variant chosen once, work split over the thread pool. */
#ifndef RW_OPS_H
#define RW_OPS_H

#include <stddef.h>
#include <stdint.h>

#include "rw_blas.h"
#include "rw_kernels.h"

/* Selects the kernel variant ("avx2" when the CPU has AVX2 and FMA and force_base is 0). */
const char *rw_ops_init(int force_base);

void rw_unary(int op, const float *x, float *y, size_t n, float alpha);
void rw_binary(int op, const rw_nd *nd, const float *a, const float *b, float *out, size_t n);
/* x is [outer, reduce_size, inner]; out is [outer, inner]. */
void rw_reduce(int op, const float *x, float *out, size_t outer, size_t reduce_size, size_t inner);
void rw_softmax(const float *x, float *y, size_t rows, size_t cols);
void rw_bias_rows(float *c, const float *bias, size_t rows, size_t cols);
void rw_adam(float *w, const float *g, float *m, float *v, const rw_adam_params *p, size_t n);

typedef enum { RW_GEMM_THREADS_BLAS = 0, RW_GEMM_THREADS_POOL = 1 } rw_gemm_threading;

/*
 * C[bi] = op(A[bi % batch_a]) x op(B[bi % batch_b]) for bi < batch (tfjs's batch broadcasting),
 * row-major, C is [batch, m, n]. With RW_GEMM_THREADS_POOL, BLAS runs single-threaded in each
 * pool thread (batch entries, or row / column blocks of a single product, split across threads);
 * with RW_GEMM_THREADS_BLAS, BLAS's own threads work on one product after the other.
 */
void rw_sgemm_batched(const rw_blas *blas, rw_gemm_threading threading, int trans_a, int trans_b, int m, int n,
                      int k, const float *a, const float *b, float *c, size_t batch, size_t batch_a, size_t batch_b);

#endif
