/* Batched sgemm with tfjs's batch broadcasting, threaded by OpenBLAS or by the pool. */
#include "rw_ops.h"
#include "rw_pool.h"

typedef struct {
  const rw_blas *blas;
  int trans_a, trans_b, m, n, k;
  const float *a, *b;
  float *c;
  size_t batch_a, batch_b;
  int split_rows; /* 1: units are rows of the single product; 0: units are batch entries */
} gemm_ctx;

static void gemm_one(const gemm_ctx *g, size_t bi, int row0, int rows) {
  const float *a = g->a + (bi % g->batch_a) * (size_t)g->m * g->k;
  const float *b = g->b + (bi % g->batch_b) * (size_t)g->k * g->n;
  float *c = g->c + bi * (size_t)g->m * g->n;
  const int lda = g->trans_a ? g->m : g->k;
  const int ldb = g->trans_b ? g->k : g->n;
  /* Rows row0.. of op(A): with A transposed they are columns of the stored matrix. */
  const float *a_rows = g->trans_a ? a + row0 : a + (size_t)row0 * lda;
  g->blas->sgemm(RW_CBLAS_ROW_MAJOR, g->trans_a ? RW_CBLAS_TRANS : RW_CBLAS_NO_TRANS,
                 g->trans_b ? RW_CBLAS_TRANS : RW_CBLAS_NO_TRANS, rows, g->n, g->k, 1.0f, a_rows, lda, b, ldb, 0.0f,
                 c + (size_t)row0 * g->n, g->n);
}

static void gemm_range(void *arg, size_t begin, size_t end) {
  const gemm_ctx *g = arg;
  if (g->split_rows) {
    gemm_one(g, 0, (int)begin, (int)(end - begin));
  } else {
    for (size_t bi = begin; bi < end; bi++) gemm_one(g, bi, 0, g->m);
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
  if (threading == RW_GEMM_THREADS_BLAS || threads <= 1) {
    gemm_range(&g, 0, batch);
    return;
  }
  if (threading == RW_GEMM_THREADS_HYBRID) {
    /* Many small products: one per pool thread at a time, BLAS single-threaded meanwhile. */
    if (batch >= (size_t)threads && flops < 16e6 && blas->set_num_threads) {
      size_t grain = flops >= 1e6 ? 1 : (size_t)(1e6 / flops) + 1;
      blas->set_num_threads(1);
      rw_parallel_for(batch, grain, 1, gemm_range, &g);
      blas->set_num_threads(threads);
    } else {
      gemm_range(&g, 0, batch);
    }
    return;
  }
  if (batch > 1) {
    /* Enough work per thread: about 1 MFLOP. */
    size_t grain = flops >= 1e6 ? 1 : (size_t)(1e6 / flops) + 1;
    rw_parallel_for(batch, grain, 1, gemm_range, &g);
    return;
  }
  g.split_rows = 1;
  size_t grain = flops >= 2e6 ? (size_t)(m + threads - 1) / threads : (size_t)m;
  rw_parallel_for((size_t)m, grain, 16, gemm_range, &g);
}
