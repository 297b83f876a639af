/* A small fork-join thread pool: the calling thread takes part, workers spin briefly then sleep. */
#ifndef RW_POOL_H
#define RW_POOL_H

#include <stddef.h>

typedef void (*rw_range_fn)(void *ctx, size_t begin, size_t end);

/* Elementwise work below this many elements runs on the calling thread only (kernels scale it by their cost). */
#define RW_GRAIN 32768

/* Starts threads - 1 workers (threads <= 0: one per CPU this process may run on). Idempotent. */
int rw_pool_start(int threads);
int rw_pool_threads(void);

/*
 * Runs fn over [0, n) split into at most rw_pool_threads() contiguous ranges of at least `grain`
 * units each (ranges are multiples of `align` units except the last). Returns when all are done.
 */
void rw_parallel_for(size_t n, size_t grain, size_t align, rw_range_fn fn, void *ctx);

#endif
