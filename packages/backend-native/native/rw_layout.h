#ifndef RW_LAYOUT_H
#define RW_LAYOUT_H

#include <stddef.h>
#include <stdint.h>

/* out (contiguous, shape dims) = in read with per-output-dim strides (a permutation of in's strides). */
void rw_transpose32(const uint32_t *in, uint32_t *out, int rank, const int64_t *dims, const int64_t *strides);

/* params [outer, axis_dim, inner] gathered along axis_dim; returns -1, or the position of a bad index. */
int64_t rw_gather32(const uint32_t *params, const int32_t *indices, uint32_t *out, size_t outer, size_t axis_dim,
                    size_t inner, size_t n_idx);

/* out[num_segments, inner] = sum of data rows by id (ids outside [0, num_segments) are dropped). */
int rw_unsorted_segment_sum(const float *data, const int32_t *ids, float *out, size_t n, size_t inner,
                            size_t num_segments);

#endif
