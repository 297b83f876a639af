#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "rw_blas.h"

#include <dlfcn.h>
#if defined(__GLIBC__)
#include <link.h>
#endif
#include <stdio.h>
#include <string.h>

static void append_error(rw_blas *blas, const char *path, const char *why) {
  size_t used = strlen(blas->error);
  snprintf(blas->error + used, sizeof blas->error - used, "%s%s: %s", used ? "; " : "", path, why);
}

static int try_open(rw_blas *blas, const char *path) {
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *err = dlerror();
    append_error(blas, path, err ? err : "dlopen failed");
    return -1;
  }
  void *sgemm = dlsym(handle, "cblas_sgemm");
  if (!sgemm) {
    append_error(blas, path, "no cblas_sgemm symbol");
    dlclose(handle);
    return -1;
  }
  blas->handle = handle;
  blas->sgemm = (rw_sgemm_fn)sgemm;
  blas->sgemv = (rw_sgemv_fn)dlsym(handle, "cblas_sgemv");
  blas->get_num_threads = (int (*)(void))dlsym(handle, "openblas_get_num_threads");
  blas->set_num_threads = (void (*)(int))dlsym(handle, "openblas_set_num_threads");
  blas->get_corename = (char *(*)(void))dlsym(handle, "openblas_get_corename");
  blas->get_config = (char *(*)(void))dlsym(handle, "openblas_get_config");
  /* Report the file actually loaded (symlinks resolved by the loader's own bookkeeping). */
  snprintf(blas->path, sizeof blas->path, "%s", path);
#if defined(__GLIBC__)
  struct link_map *map = NULL;
  if (dlinfo(handle, RTLD_DI_LINKMAP, &map) == 0 && map && map->l_name && map->l_name[0]) {
    snprintf(blas->path, sizeof blas->path, "%s", map->l_name);
  }
#endif
  return 0;
}

int rw_blas_open(rw_blas *blas, const char *paths) {
  memset(blas, 0, sizeof *blas);
  char buf[4096];
  snprintf(buf, sizeof buf, "%s", paths);
  char *save = NULL;
  for (char *path = strtok_r(buf, ":", &save); path; path = strtok_r(NULL, ":", &save)) {
    if (*path && try_open(blas, path) == 0) return 0;
  }
  if (!blas->error[0]) snprintf(blas->error, sizeof blas->error, "no BLAS library path given");
  return -1;
}
