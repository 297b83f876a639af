/* Run-time loading of a CBLAS library (OpenBLAS preferred) with dlopen: no BLAS headers needed to build. */
#ifndef RW_BLAS_H
#define RW_BLAS_H

enum { RW_CBLAS_ROW_MAJOR = 101, RW_CBLAS_NO_TRANS = 111, RW_CBLAS_TRANS = 112 };

typedef void (*rw_sgemm_fn)(int order, int trans_a, int trans_b, int m, int n, int k, float alpha,
                            const float *a, int lda, const float *b, int ldb, float beta, float *c, int ldc);

typedef void (*rw_sgemv_fn)(int order, int trans, int m, int n, float alpha, const float *a, int lda, const float *x,
                            int incx, float beta, float *y, int incy);

typedef struct rw_blas {
  void *handle;
  rw_sgemm_fn sgemm;
  /* cblas_sgemv (NULL when the library lacks it): one-row products, which sgemm would pack B for. */
  rw_sgemv_fn sgemv;
  /* OpenBLAS extras (NULL with another CBLAS). */
  int (*get_num_threads)(void);
  void (*set_num_threads)(int);
  char *(*get_corename)(void);
  char *(*get_config)(void);
  char path[1024];
  char error[2048];
} rw_blas;

/* Tries each path of the ':'-separated list in order; returns 0 and fills blas on success. */
int rw_blas_open(rw_blas *blas, const char *paths);

#endif
