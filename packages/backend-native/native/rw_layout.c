/* Data movement kernels: transpose, gather, unsorted segment sum (4-byte elements, memory bound). */
#include "rw_layout.h"

#include <stdlib.h>
#include <string.h>

#include "rw_pool.h"

#define TILE 32

typedef struct {
  const uint32_t *in;
  uint32_t *out;
  int rank;
  const int64_t *dims;
  const int64_t *strides;
  size_t row_tiles;
} transpose_ctx;

/* Unit u = (outer index, tile of rows of the last-but-one output dim). */
static void transpose_units(void *arg, size_t begin, size_t end) {
  const transpose_ctx *t = arg;
  const int rank = t->rank;
  const int64_t rows = t->dims[rank - 2], cols = t->dims[rank - 1];
  const int64_t srow = t->strides[rank - 2], scol = t->strides[rank - 1];
  for (size_t u = begin; u < end; u++) {
    size_t outer = u / t->row_tiles;
    int64_t r0 = (int64_t)(u % t->row_tiles) * TILE;
    int64_t r1 = r0 + TILE < rows ? r0 + TILE : rows;
    int64_t in_base = 0;
    size_t rem = outer;
    for (int d = rank - 3; d >= 0; d--) {
      in_base += (int64_t)(rem % (size_t)t->dims[d]) * t->strides[d];
      rem /= (size_t)t->dims[d];
    }
    uint32_t *out = t->out + (outer * (size_t)rows) * (size_t)cols;
    if (scol == 1) {
      for (int64_t r = r0; r < r1; r++) memcpy(out + r * cols, t->in + in_base + r * srow, (size_t)cols * 4);
      continue;
    }
    for (int64_t c0 = 0; c0 < cols; c0 += TILE) {
      int64_t c1 = c0 + TILE < cols ? c0 + TILE : cols;
      for (int64_t r = r0; r < r1; r++) {
        const uint32_t *src = t->in + in_base + r * srow;
        uint32_t *dst = out + r * cols;
        for (int64_t c = c0; c < c1; c++) dst[c] = src[c * scol];
      }
    }
  }
}

void rw_transpose32(const uint32_t *in, uint32_t *out, int rank, const int64_t *dims, const int64_t *strides) {
  if (rank < 2) {
    int64_t n = rank == 1 ? dims[0] : 1;
    if (rank == 1 && strides[0] != 1) {
      for (int64_t i = 0; i < n; i++) out[i] = in[i * strides[0]];
    } else {
      memcpy(out, in, (size_t)n * 4);
    }
    return;
  }
  size_t outer = 1;
  for (int d = 0; d < rank - 2; d++) outer *= (size_t)dims[d];
  transpose_ctx t = {in, out, rank, dims, strides, (size_t)((dims[rank - 2] + TILE - 1) / TILE)};
  size_t units = outer * t.row_tiles;
  size_t unit_elems = (size_t)TILE * (size_t)dims[rank - 1];
  size_t grain = unit_elems >= RW_GRAIN ? 1 : RW_GRAIN / unit_elems;
  rw_parallel_for(units, grain, 1, transpose_units, &t);
}

typedef struct {
  const uint32_t *params;
  const int32_t *indices;
  uint32_t *out;
  size_t axis_dim, inner, n_idx;
} gather_ctx;

static void gather_rows(void *arg, size_t begin, size_t end) {
  const gather_ctx *g = arg;
  for (size_t row = begin; row < end; row++) {
    size_t o = row / g->n_idx, k = row % g->n_idx;
    memcpy(g->out + row * g->inner, g->params + (o * g->axis_dim + (size_t)g->indices[k]) * g->inner, g->inner * 4);
  }
}

int64_t rw_gather32(const uint32_t *params, const int32_t *indices, uint32_t *out, size_t outer, size_t axis_dim,
                    size_t inner, size_t n_idx) {
  for (size_t k = 0; k < n_idx; k++) {
    if (indices[k] < 0 || (size_t)indices[k] >= axis_dim) return (int64_t)k;
  }
  gather_ctx g = {params, indices, out, axis_dim, inner, n_idx};
  size_t grain = inner >= RW_GRAIN / 2 ? 1 : (RW_GRAIN / 2) / (inner ? inner : 1);
  rw_parallel_for(outer * n_idx, grain, 1, gather_rows, &g);
  return -1;
}

typedef struct {
  const float *data;
  const int32_t *ids;
  float *out;
  double *acc;
  size_t n, inner, num_segments;
} segment_ctx;

/* Columns [begin, end) of every segment: rows are added in order, in double, like tfjs's sum. */
static void segment_columns(void *arg, size_t begin, size_t end) {
  const segment_ctx *s = arg;
  for (size_t seg = 0; seg < s->num_segments; seg++)
    for (size_t c = begin; c < end; c++) s->acc[seg * s->inner + c] = 0.0;
  for (size_t row = 0; row < s->n; row++) {
    int32_t id = s->ids[row];
    if (id < 0 || (size_t)id >= s->num_segments) continue;
    double *acc = s->acc + (size_t)id * s->inner;
    const float *src = s->data + row * s->inner;
    for (size_t c = begin; c < end; c++) acc[c] += (double)src[c];
  }
  for (size_t seg = 0; seg < s->num_segments; seg++)
    for (size_t c = begin; c < end; c++) s->out[seg * s->inner + c] = (float)s->acc[seg * s->inner + c];
}

int rw_unsorted_segment_sum(const float *data, const int32_t *ids, float *out, size_t n, size_t inner,
                            size_t num_segments) {
  double *acc = malloc(num_segments * inner * sizeof(double) + 1);
  if (!acc) return -1;
  segment_ctx s = {data, ids, out, acc, n, inner, num_segments};
  size_t grain = n * inner >= RW_GRAIN * 2 ? 16 : inner;
  rw_parallel_for(inner, grain, 16, segment_columns, &s);
  free(acc);
  return 0;
}
