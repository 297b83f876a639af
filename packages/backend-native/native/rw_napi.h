/* Small Node-API helpers shared by the binding files. */
#ifndef RW_NAPI_H
#define RW_NAPI_H

#include <node_api.h>
#include <stddef.h>
#include <stdint.h>

/* Each returns 0, or throws a JS error and returns -1. */
int rw_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv);
int rw_f32(napi_env env, napi_value value, float **data, size_t *length);
int rw_i32(napi_env env, napi_value value, int32_t **data, size_t *length);
/* Any typed array with 4-byte elements (float32, int32, uint32). */
int rw_any32(napi_env env, napi_value value, uint32_t **data, size_t *length);
int rw_f64(napi_env env, napi_value value, double **data, size_t *length);
int rw_int(napi_env env, napi_value value, int64_t *out);
int rw_num(napi_env env, napi_value value, double *out);
int rw_bool(napi_env env, napi_value value, int *out);
napi_value rw_throw(napi_env env, const char *message);
napi_value rw_undefined(napi_env env);
void rw_set_named(napi_env env, napi_value object, const char *name, napi_value value);
void rw_set_string(napi_env env, napi_value object, const char *name, const char *value);
void rw_set_number(napi_env env, napi_value object, const char *name, double value);
void rw_set_bool(napi_env env, napi_value object, const char *name, int value);

/* Defined in rw_addon_ops.c: registers the kernel functions on exports. */
void rw_register_ops(napi_env env, napi_value exports);
/* Defined in rw_quant.c: registers qmatmul (matmul with a quantized weight). */
void rw_register_quant(napi_env env, napi_value exports);
/* Defined in rw_addon.c: the loaded BLAS (NULL before a successful init). */
const struct rw_blas *rw_loaded_blas(void);
int rw_gemm_threading_mode(void);

#endif
