/*
 * rankwise_native: Node-API entry point. `init` dlopens BLAS and starts the thread pool; the
 * kernel bindings live in rw_addon_ops.c.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "rw_blas.h"
#include "rw_napi.h"
#include "rw_ops.h"
#include "rw_pool.h"

static rw_blas blas;
static int initialized;
static int mmap_threshold; /* bytes set with mallopt(M_MMAP_THRESHOLD), 0 = glibc's own (dynamic) threshold */
static int gemm_threading = RW_GEMM_THREADS_POOL;
static const char *isa = "baseline";

const struct rw_blas *rw_loaded_blas(void) { return initialized ? &blas : NULL; }
int rw_gemm_threading_mode(void) { return gemm_threading; }

static int get_string_prop(napi_env env, napi_value object, const char *name, char *out, size_t size) {
  napi_value value;
  napi_valuetype type;
  out[0] = 0;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return -1;
  if (napi_typeof(env, value, &type) != napi_ok || type != napi_string) return -1;
  size_t written = 0;
  return napi_get_value_string_utf8(env, value, out, size, &written) == napi_ok ? 0 : -1;
}

static double get_number_prop(napi_env env, napi_value object, const char *name, double fallback) {
  napi_value value;
  napi_valuetype type;
  double out = fallback;
  if (napi_get_named_property(env, object, name, &value) != napi_ok) return fallback;
  if (napi_typeof(env, value, &type) != napi_ok) return fallback;
  if (type == napi_number) napi_get_value_double(env, value, &out);
  if (type == napi_boolean) {
    bool b = false;
    napi_get_value_bool(env, value, &b);
    out = b ? 1 : 0;
  }
  return out;
}

static napi_value describe(napi_env env) {
  napi_value info;
  napi_create_object(env, &info);
  rw_set_bool(env, info, "ok", 1);
  rw_set_string(env, info, "blasPath", blas.path);
  rw_set_string(env, info, "coretype", blas.get_corename ? blas.get_corename() : "");
  rw_set_string(env, info, "blasConfig", blas.get_config ? blas.get_config() : "");
  rw_set_number(env, info, "blasThreads", blas.get_num_threads ? blas.get_num_threads() : -1);
  rw_set_number(env, info, "threads", rw_pool_threads());
  rw_set_string(env, info, "isa", isa);
  rw_set_string(env, info, "gemmThreading", gemm_threading == RW_GEMM_THREADS_POOL ? "pool" : "blas");
  rw_set_number(env, info, "mmapThreshold", mmap_threshold);
  return info;
}

/* init({ blasPaths, coretype, threads, forceBaseline, gemmThreading }) -> { ok, ... } | { ok: false, reason } */
static napi_value init(napi_env env, napi_callback_info cb) {
  napi_value argv[1];
  if (rw_args(env, cb, 1, argv)) return NULL;
  if (initialized) return describe(env);
  char paths[4096], coretype[64], threading[16];
  if (get_string_prop(env, argv[0], "blasPaths", paths, sizeof paths) != 0) return rw_throw(env, "blasPaths missing");
  get_string_prop(env, argv[0], "coretype", coretype, sizeof coretype);
  get_string_prop(env, argv[0], "gemmThreading", threading, sizeof threading);
  int threads = (int)get_number_prop(env, argv[0], "threads", 0);
  int force_base = get_number_prop(env, argv[0], "forceBaseline", 0) != 0;
  int threshold = (int)get_number_prop(env, argv[0], "mmapThreshold", 0);
#if defined(__GLIBC__)
  /*
   * glibc raises its mmap threshold each time a large mmapped block is freed (up to 32 MiB), after which tensor
   * buffers come from the heap, where freed ones stay in the process (fragmented) instead of going back to the
   * system. A fixed threshold keeps every large buffer mmapped, so freeing it returns its memory. An explicit
   * MALLOC_MMAP_THRESHOLD_ in the environment wins.
   */
  if (threshold > 0 && getenv("MALLOC_MMAP_THRESHOLD_") == NULL && mallopt(M_MMAP_THRESHOLD, threshold) == 1) mmap_threshold = threshold;
#else
  (void)threshold;
#endif
  /* OpenBLAS reads OPENBLAS_CORETYPE when it is loaded; an explicit environment value wins. */
  if (coretype[0]) setenv("OPENBLAS_CORETYPE", coretype, 0);
  if (rw_blas_open(&blas, paths) != 0) {
    napi_value result;
    napi_create_object(env, &result);
    rw_set_bool(env, result, "ok", 0);
    rw_set_string(env, result, "reason", blas.error);
    return result;
  }
  rw_pool_start(threads);
  isa = rw_ops_init(force_base);
  gemm_threading = strcmp(threading, "blas") == 0 ? RW_GEMM_THREADS_BLAS : RW_GEMM_THREADS_POOL;
  if (blas.set_num_threads) blas.set_num_threads(gemm_threading == RW_GEMM_THREADS_POOL ? 1 : rw_pool_threads());
  initialized = 1;
  return describe(env);
}

/*
 * releaseBuffer(arrayBuffer): detaches an ArrayBuffer nothing reads any more, which frees its memory now instead of at
 * the next garbage collection (the pool calls it for float32 buffers no tensor holds). Returns whether it was detached.
 */
static napi_value release_buffer(napi_env env, napi_callback_info cb) {
  napi_value argv[1];
  if (rw_args(env, cb, 1, argv)) return NULL;
  bool is_buffer = false;
  napi_value result;
  if (napi_is_arraybuffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) return rw_throw(env, "releaseBuffer: expected an ArrayBuffer");
  napi_get_boolean(env, napi_detach_arraybuffer(env, argv[0]) == napi_ok, &result);
  return result;
}

static napi_value op_table(napi_env env, const char *const *names, int count) {
  napi_value table;
  napi_create_object(env, &table);
  for (int i = 0; i < count; i++) rw_set_number(env, table, names[i], i);
  return table;
}

#define RW_NAME(name) #name,
static const char *const unary_names[] = {RW_UNARY_OPS(RW_NAME)};
static const char *const binary_names[] = {RW_BINARY_OPS(RW_NAME)};
static const char *const reduce_names[] = {RW_REDUCE_OPS(RW_NAME)};

static napi_value module_init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "init", NAPI_AUTO_LENGTH, init, NULL, &fn);
  rw_set_named(env, exports, "init", fn);
  napi_create_function(env, "releaseBuffer", NAPI_AUTO_LENGTH, release_buffer, NULL, &fn);
  rw_set_named(env, exports, "releaseBuffer", fn);
  napi_value ops;
  napi_create_object(env, &ops);
  rw_set_named(env, ops, "unary", op_table(env, unary_names, RW_UNARY_COUNT));
  rw_set_named(env, ops, "binary", op_table(env, binary_names, RW_BINARY_COUNT));
  rw_set_named(env, ops, "reduce", op_table(env, reduce_names, RW_REDUCE_COUNT));
  rw_set_named(env, exports, "ops", ops);
  rw_register_ops(env, exports);
  rw_register_quant(env, exports);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, module_init)
