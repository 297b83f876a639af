/* Batched sgemm with tfjs's batch broadcasting, threaded by OpenBLAS or by the pool. */
#include "rw_ops.h"
#include "rw_pool.h"

typedef struct {
  const rw_blas *blas;
  int trans_a, trans_b, m, n, k;
  const float *a, *b;
  float *c;
  size_t batch_a, batch_b;
  int split; /* 0: units are batch entries; 1: rows of the single product; 2: its columns; 3: columns of a one-row product (gemv) */
} gemm_ctx;

/* Columns [col0, col0 + cols) of the one-row product a[1, k]·op(B) with sgemv: streams B once, without packing it. */
static void gemv_block(const gemm_ctx *g, int col0, int cols) {
  /* a is [1, k] or, transposed, [k, 1]: k contiguous values either way. */
  if (g->trans_b) {
    /* B is [n, k]: y = B[col0 : col0 + cols, :]·a */
    g->blas->sgemv(RW_CBLAS_ROW_MAJOR, RW_CBLAS_NO_TRANS, cols, g->k, 1.0f, g->b + (size_t)col0 * g->k, g->k, g->a, 1, 0.0f,
                   g->c + col0, 1);
  } else {
    /* B is [k, n]: y = B[:, col0 : col0 + cols]ᵀ·a */
    g->blas->sgemv(RW_CBLAS_ROW_MAJOR, RW_CBLAS_TRANS, g->k, cols, 1.0f, g->b + col0, g->n, g->a, 1, 0.0f, g->c + col0, 1);
  }
}

/* Rows [row0, row0 + rows) and columns [col0, col0 + cols) of product bi. */
static void gemm_block(const gemm_ctx *g, size_t bi, int row0, int rows, int col0, int cols) {
  const float *a = g->a + (bi % g->batch_a) * (size_t)g->m * g->k;
  const float *b = g->b + (bi % g->batch_b) * (size_t)g->k * g->n;
  float *c = g->c + bi * (size_t)g->m * g->n;
  const int lda = g->trans_a ? g->m : g->k;
  const int ldb = g->trans_b ? g->k : g->n;
  /* Rows of op(A) are columns of A when it is transposed; likewise columns of op(B). */
  const float *a_rows = g->trans_a ? a + row0 : a + (size_t)row0 * lda;
  const float *b_cols = g->trans_b ? b + (size_t)col0 * ldb : b + col0;
  g->blas->sgemm(RW_CBLAS_ROW_MAJOR, g->trans_a ? RW_CBLAS_TRANS : RW_CBLAS_NO_TRANS,
                 g->trans_b ? RW_CBLAS_TRANS : RW_CBLAS_NO_TRANS, rows, cols, g->k, 1.0f, a_rows, lda, b_cols, ldb, 0.0f,
                 c + (size_t)row0 * g->n + col0, g->n);
}

static void gemm_range(void *arg, size_t begin, size_t end) {
  const gemm_ctx *g = arg;
  if (g->split == 3) {
    gemv_block(g, (int)begin, (int)(end - begin));
  } else if (g->split == 1) {
    gemm_block(g, 0, (int)begin, (int)(end - begin), 0, g->n);
  } else if (g->split == 2) {
    gemm_block(g, 0, 0, g->m, (int)begin, (int)(end - begin));
  } else {
    for (size_t bi = begin; bi < end; bi++) gemm_block(g, bi, 0, g->m, 0, g->n);
  }
}

void rw_sgemm_batched(const rw_blas *blas, rw_gemm_threading threading, int trans_a, int trans_b, int m, int n,
                      int k, const float *a, const float *b, float *c, size_t batch, size_t batch_a, size_t batch_b) {
  gemm_ctx g = {blas, trans_a, trans_b, m, n, k, a, b, c, batch_a, batch_b, 0};
  if (m == 0 || n == 0 || batch == 0) return;
  if (k == 0) {
    for (size_t i = 0; i < batch * (size_t)m * n; i++) c[i] = 0.0f;
    return;
  }
  const int threads = rw_pool_threads();
  const double flops = 2.0 * m * n * k;
  if (m == 1 && batch == 1 && blas->sgemv) {
    /* Decoding one token: a matrix-vector product, bound by reading B. Split its columns over the pool. */
    g.split = 3;
    size_t grain = (threading == RW_GEMM_THREADS_BLAS || threads <= 1 || flops < 2e5) ? (size_t)n : ((size_t)n + threads - 1) / threads;
    if (grain >= (size_t)n) gemm_range(&g, 0, (size_t)n);
    else rw_parallel_for((size_t)n, grain, 16, gemm_range, &g);
    return;
  }
  if (threading == RW_GEMM_THREADS_BLAS || threads <= 1) {
    gemm_range(&g, 0, batch);
    return;
  }
  if (batch > 1) {
    /* Enough work per thread: about 1 MFLOP. */
    size_t grain = flops >= 1e6 ? 1 : (size_t)(1e6 / flops) + 1;
    rw_parallel_for(batch, grain, 1, gemm_range, &g);
    return;
  }
  /* One block per thread. Splitting rows repacks all of op(B) in each thread, splitting columns all
     of op(A): split the dimension that duplicates the smaller operand. */
  g.split = m >= n ? 1 : 2;
  size_t extent = (size_t)(g.split == 1 ? m : n);
  size_t grain = flops >= 4e6 ? (extent + threads - 1) / threads : extent;
  rw_parallel_for(extent, grain, 16, gemm_range, &g);
}
