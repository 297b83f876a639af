#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rw_pool.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <unistd.h>

/*
 * Jobs are cut into up to RW_CHUNKS_PER_THREAD * threads chunks that the caller and the workers
 * claim one at a time under `lock`. The caller never waits for a worker that has not claimed
 * anything: on a busy machine (another process holding the other core) it simply does all chunks
 * itself, so the pool can make things slower only by one chunk's time.
 */
#define RW_MAX_THREADS 64
#define RW_CHUNKS_PER_THREAD 4
#define RW_SPIN_ITERATIONS 4000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake = PTHREAD_COND_INITIALIZER;
static pthread_cond_t done = PTHREAD_COND_INITIALIZER;
/* Serialises jobs when the addon is used from several JS threads (worker_threads share this pool). */
static pthread_mutex_t job_lock = PTHREAD_MUTEX_INITIALIZER;

/* Job state, guarded by `lock` (generation is also read without it while spinning). */
static atomic_uint generation;
static rw_range_fn job_fn;
static void *job_ctx;
static size_t job_n, job_per, job_chunks, job_next, job_remaining;
static int caller_waiting;

static int thread_count = 1;
static int started;

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#endif
}

/* Claims the next chunk of job `gen`; 0 when that job has none left (or is no longer current). */
static int claim(unsigned gen, rw_range_fn *fn, void **ctx, size_t *begin, size_t *end) {
  int ok = 0;
  pthread_mutex_lock(&lock);
  if (atomic_load_explicit(&generation, memory_order_relaxed) == gen && job_next < job_chunks) {
    size_t c = job_next++;
    *fn = job_fn;
    *ctx = job_ctx;
    *begin = c * job_per;
    *end = *begin + job_per < job_n ? *begin + job_per : job_n;
    ok = 1;
  }
  pthread_mutex_unlock(&lock);
  return ok;
}

static void finish_chunk(void) {
  pthread_mutex_lock(&lock);
  if (--job_remaining == 0 && caller_waiting) pthread_cond_signal(&done);
  pthread_mutex_unlock(&lock);
}

static void work_on(unsigned gen) {
  rw_range_fn fn;
  void *ctx;
  size_t begin, end;
  while (claim(gen, &fn, &ctx, &begin, &end)) {
    fn(ctx, begin, end);
    finish_chunk();
  }
}

static void *worker_main(void *arg) {
  (void)arg;
  /* Workers exist before any job is published (rw_pool_start runs first): generation 0 is "seen". */
  unsigned seen = 0;
  for (;;) {
    unsigned now = seen;
    for (int spin = 0; spin < RW_SPIN_ITERATIONS && now == seen; spin++) {
      cpu_relax();
      now = atomic_load_explicit(&generation, memory_order_acquire);
    }
    if (now == seen) {
      pthread_mutex_lock(&lock);
      while ((now = atomic_load(&generation)) == seen) pthread_cond_wait(&wake, &lock);
      pthread_mutex_unlock(&lock);
    }
    seen = now;
    work_on(now);
  }
  return NULL;
}

static int rw_cpu_count(void) {
#if defined(__linux__)
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof set, &set) == 0) {
    int count = CPU_COUNT(&set);
    if (count > 0) return count;
  }
#endif
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n > 0 ? (int)n : 1;
}

int rw_pool_start(int threads) {
  if (started) return thread_count;
  started = 1;
  if (threads <= 0) threads = rw_cpu_count();
  if (threads > RW_MAX_THREADS) threads = RW_MAX_THREADS;
  thread_count = 1;
  for (int i = 1; i < threads; i++) {
    pthread_t thread;
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&thread, &attr, worker_main, NULL);
    pthread_attr_destroy(&attr);
    if (rc != 0) break;
    thread_count++;
  }
  return thread_count;
}

int rw_pool_threads(void) { return thread_count; }

void rw_parallel_for(size_t n, size_t grain, size_t align, rw_range_fn fn, void *ctx) {
  if (n == 0) return;
  if (grain < 1) grain = 1;
  if (align < 1) align = 1;
  size_t chunks = n / grain;
  size_t max_chunks = (size_t)thread_count * RW_CHUNKS_PER_THREAD;
  if (chunks > max_chunks) chunks = max_chunks;
  if (chunks <= 1 || thread_count <= 1 || pthread_mutex_trylock(&job_lock) != 0) {
    fn(ctx, 0, n);
    return;
  }
  size_t per = (n + chunks - 1) / chunks;
  per = (per + align - 1) / align * align;
  chunks = (n + per - 1) / per;

  pthread_mutex_lock(&lock);
  job_fn = fn;
  job_ctx = ctx;
  job_n = n;
  job_per = per;
  job_chunks = chunks;
  job_next = 0;
  job_remaining = chunks;
  unsigned gen = atomic_fetch_add_explicit(&generation, 1, memory_order_release) + 1;
  pthread_cond_broadcast(&wake);
  pthread_mutex_unlock(&lock);

  work_on(gen);

  /* Only chunks already claimed by workers can still be running. */
  for (int spin = 0; spin < RW_SPIN_ITERATIONS * 4; spin++) {
    pthread_mutex_lock(&lock);
    size_t left = job_remaining;
    pthread_mutex_unlock(&lock);
    if (left == 0) break;
    cpu_relax();
  }
  pthread_mutex_lock(&lock);
  caller_waiting = 1;
  while (job_remaining > 0) pthread_cond_wait(&done, &lock);
  caller_waiting = 0;
  pthread_mutex_unlock(&lock);
  pthread_mutex_unlock(&job_lock);
}
