#include "rw_napi.h"

#include <stdio.h>

napi_value rw_throw(napi_env env, const char *message) {
  napi_throw_error(env, "RANKWISE_NATIVE", message);
  return NULL;
}

napi_value rw_undefined(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

int rw_args(napi_env env, napi_callback_info info, size_t expected, napi_value *argv) {
  size_t argc = expected;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < expected) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected %zu arguments, got %zu", expected, argc);
    rw_throw(env, msg);
    return -1;
  }
  return 0;
}

static int typed(napi_env env, napi_value value, void **data, size_t *length, int want_type, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  size_t len = 0, offset = 0;
  void *ptr = NULL;
  if (napi_is_typedarray(env, value, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, value, &type, &len, &ptr, NULL, &offset) != napi_ok ||
      !(want_type >= 0 ? (int)type == want_type
                       : (type == napi_float32_array || type == napi_int32_array || type == napi_uint32_array))) {
    char msg[96];
    snprintf(msg, sizeof msg, "expected a %s", what);
    rw_throw(env, msg);
    return -1;
  }
  *data = ptr;
  *length = len;
  return 0;
}

int rw_f32(napi_env env, napi_value v, float **d, size_t *n) {
  return typed(env, v, (void **)d, n, napi_float32_array, "Float32Array");
}
int rw_i32(napi_env env, napi_value v, int32_t **d, size_t *n) {
  return typed(env, v, (void **)d, n, napi_int32_array, "Int32Array");
}
int rw_any32(napi_env env, napi_value v, uint32_t **d, size_t *n) {
  return typed(env, v, (void **)d, n, -1, "Float32Array, Int32Array or Uint32Array");
}
int rw_f64(napi_env env, napi_value v, double **d, size_t *n) {
  return typed(env, v, (void **)d, n, napi_float64_array, "Float64Array");
}

int rw_num(napi_env env, napi_value value, double *out) {
  if (napi_get_value_double(env, value, out) != napi_ok) {
    rw_throw(env, "expected a number");
    return -1;
  }
  return 0;
}

int rw_int(napi_env env, napi_value value, int64_t *out) {
  if (napi_get_value_int64(env, value, out) != napi_ok) {
    rw_throw(env, "expected an integer");
    return -1;
  }
  return 0;
}

int rw_bool(napi_env env, napi_value value, int *out) {
  bool b = false;
  if (napi_get_value_bool(env, value, &b) != napi_ok) {
    rw_throw(env, "expected a boolean");
    return -1;
  }
  *out = b ? 1 : 0;
  return 0;
}

void rw_set_named(napi_env env, napi_value object, const char *name, napi_value value) {
  napi_set_named_property(env, object, name, value);
}

void rw_set_string(napi_env env, napi_value object, const char *name, const char *value) {
  napi_value v;
  napi_create_string_utf8(env, value ? value : "", NAPI_AUTO_LENGTH, &v);
  rw_set_named(env, object, name, v);
}

void rw_set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  napi_create_double(env, value, &v);
  rw_set_named(env, object, name, v);
}

void rw_set_bool(napi_env env, napi_value object, const char *name, int value) {
  napi_value v;
  napi_get_boolean(env, value != 0, &v);
  rw_set_named(env, object, name, v);
}
