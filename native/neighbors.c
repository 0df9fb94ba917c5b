// Exact k-nearest-neighbour search for src/models/neighbors (dense euclidean and manhattan rows), the whole query loop
// in C. Rows are sorted by their coordinate on a principal direction (in groups of GROUP rows ordered inside by the
// second direction) and a query measures them outward from its own coordinate until the gap to the groups' coordinate
// ranges alone rules out the rest (Friedman, Baskett & Shustek, ACM TOMS 1975). Sixteen rows at a time (one per vector
// lane), a lower bound from the rows' first PCS principal coordinates and the norm of the rest of each row rules most
// rows out; for the others, float32 distances stop once every partial sum still needed passes the current bound
// (partial distance search, Bei & Gray, IEEE Trans. Communications 1985; columns by decreasing variance). Each query's
// bound starts from the previous query's answer (triangle inequality). Every row the float32 error bounds cannot rule
// out is re-checked in float64 in the column order of kernels.ts's reducedDistance, so the answers (indices, float64
// distances, ties to the lower row) are the JavaScript search's, bit for bit. The float32 kernels are chosen at run
// time: AVX-512 or AVX2 with FMA where the CPU has them, else portable vectors (never -march=native: the build may run
// on another machine). docs/decisions.md (session 8) gives the error bounds.
// Compiled with -ffp-contract=off: the float64 re-check must round exactly as JavaScript does.
//
// JavaScript API (src/models/neighbors/native.ts):
//   prepare(data, n, d, manhattan) -> index        data: n × d Float32Array (copied)
//   knn(index, queries, nq, k, excludeSelf, threads, kernels, outIdx, outDist) -> boolean
//     queries: nq × d Float32Array (with excludeSelf, the indexed rows themselves, each left out of its own answer);
//     writes nq × k indices and distances (-1 and Infinity where fewer than k rows exist); false, with nothing
//     written, when a query value is too large for float32 distances (the caller then searches in float64).
//     kernels: "auto" (the best this CPU has), or "avx512", "avx2", "portable" (tests; an error where the CPU lacks them)
//   kernels() -> "avx512" | "avx2" | "portable"   the best kernels this CPU has
//   majorityModes(data, n, d, modes, nonMode) -> boolean   search.ts's columnModes(majorityOnly) and float32Safe
//   localOutlierFactors(indices, distances, rows, k, kDistance, lrd, outLrd, outFactors)   lof.ts's lrd and LOF
//   allFinite(data) -> boolean   no NaN or infinity in a Float32Array (matrix.ts's checkInput scan)

#define _GNU_SOURCE
#include <math.h>
#include <node_api.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/**
 * Rows per block (vector lanes); a query's first run on each side of its coordinate, doubling up to MAX_RUN (runs
 * from 128 took 5% fewer cycles than sorted.ts's 16 on CIC-IDS2017: the principal bound drops far rows cheaply).
 */
enum { LANES = 16, FIRST_RUN = 128, MAX_RUN = 512 };
/**
 * Rows per group: with the principal bound, runs of rows sorted by the first direction are reordered inside groups by
 * the second, so that a block's rows lie closer together and its lanes pass or fail the bound together (CIC-IDS2017:
 * 9% fewer cycles with groups of 64 than without, 6% with 32, 8% with 128).
 */
enum { GROUP = 64 };
/** Queries per unit of work handed to a thread. */
enum { CHUNK = 64, MAX_THREADS = 64 };
/** Rows sampled for the principal directions, subspace iterations, and the share of sampled rows left out as outliers. */
enum { SAMPLE_ROWS = 512, ITERATIONS = 8 };
/** Principal coordinates of the lower bound (one column of 16 lanes each), used when rows have more columns. */
enum { PCS = 16 };
/** Columns of the lower bound: the PCS principal coordinates and the norm of the rest of the row. */
enum { BOUND = PCS + 1 };
static const double TRIM = 0.02;
/** Smallest absolute error term of a float32 distance (underflow of tiny squared differences), as kernels.ts. */
static const double ABS_TOL = 1e-30;
/** The largest finite float32. */
static const double F32_MAX = 3.4028234663852886e38;

/** The indexed rows, prepared once (`prepare`). */
typedef struct {
  int n, d;
  bool manhattan;
  /** The rows as given (n × d), for the float64 re-check. */
  float *data;
  /** Kernel columns per row: d rounded up to a multiple of 8 (zero columns after the last). */
  int width;
  /** Blocks of LANES rows by position (sorted order): block b is width columns of LANES floats. */
  float *blocks;
  /** Row at each position, and the smallest and largest coordinate of its group (each ascending by position). */
  int32_t *row_at;
  double *key_low, *key_high;
  /** Unit sort direction (d values), and the largest row norm (scales the coordinates' rounding bound). */
  double *direction;
  double max_norm;
  /** Data column at each kernel column (decreasing variance). */
  int32_t *columns;
  /**
   * Lower bound: PCS orthonormal principal directions (d × PCS, row-major; 0 when d <= PCS: no lower bound), each
   * block's principal coordinates and residual norms (BOUND columns of LANES floats), the largest error of a row's
   * float32 coordinates (Euclidean norm), sqrt(1 + η) for ‖UᵀU − I‖ <= η, and the coordinates' float32 error factor.
   */
  int pcs;
  double *basis;
  float *bound_blocks;
  double coord_error, spread_factor, bound_rel;
  /** Relative error bound of a float32 distance, and the factors 1 / (1 − rel) and 1 + rel (with rounding margin). */
  double rel, upper_factor, limit_factor;
} index_t;

/** One query as the kernels take it: its columns in kernel order, principal coordinates, and both limits. */
typedef struct {
  const float *query;
  const float *coords;
  float limit, bound_limit;
} probe;

/**
 * Kernels. `distances`: float32 distances of one query (w values in kernel column order) to the LANES rows of a block
 * (w columns of LANES lanes); returns the mask of lanes in `alive` whose value is <= limit, the values in out. Partial
 * sums are checked every 4 columns (8 with AVX-512): once every alive lane passes the limit the block is dropped (mask
 * 0). Each lane sums non-negative terms into four accumulators (columns by their remainder mod 4), rounded
 * monotonically and added by the same tree at every check: a partial sum above the limit means a full one above it.
 * `lower`: the lanes whose squared distance in the BOUND columns (float32) is <= the bound limit.
 * `run` applies both over blocks *block .. end − 1: stops at the first block with a non-zero mask, leaving its number
 * in *block and its values in out, and returns the mask; 0 with *block = end when none.
 */
typedef int (*run_fn)(const index_t *ix, const probe *p, int *block, int end, float out[LANES]);

typedef float v16f __attribute__((vector_size(64)));
typedef int32_t v16i __attribute__((vector_size(64)));

/** Portable kernel: GCC vectors of 16 floats, multiply then add. */
static inline int distances_portable(const float *query, const float *block, int w, bool manhattan, float limit, int alive, float out[LANES]) {
  v16f acc[4] = {{0}, {0}, {0}, {0}};
  const v16i abs_mask = (v16i){0} + 0x7fffffff;
  for (int c = 0; c < w; c += 4) {
    for (int t = 0; t < 4; t++) {
      v16f diff;
      memcpy(&diff, block + (size_t)(c + t) * LANES, sizeof diff);
      diff = query[c + t] - diff;
      acc[t] += manhattan ? (v16f)((v16i)diff & abs_mask) : diff * diff;
    }
    const v16f sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
    int mask = 0;
    for (int i = 0; i < LANES; i++) mask |= (sum[i] <= limit) << i;
    mask &= alive;
    if (mask == 0 || c + 4 >= w) {
      memcpy(out, &sum, sizeof sum);
      return mask;
    }
  }
  return 0;
}

static inline int lower_portable(const float *coords, const float *block, float limit) {
  v16f acc[4] = {{0}, {0}, {0}, {0}};
  for (int c = 0; c < BOUND; c++) {
    v16f diff;
    memcpy(&diff, block + (size_t)c * LANES, sizeof diff);
    diff = coords[c] - diff;
    acc[c & 3] += diff * diff;
  }
  const v16f sum = (acc[0] + acc[1]) + (acc[2] + acc[3]);
  int mask = 0;
  for (int i = 0; i < LANES; i++) mask |= (sum[i] <= limit) << i;
  return mask;
}

#define RUN(name, distances, lower, manhattan, ...)                                                                     \
  __VA_ARGS__ static int name(const index_t *ix, const probe *p, int *block, int end, float out[LANES]) {               \
    for (int b = *block; b < end; b++) {                                                                               \
      const int alive = ix->pcs ? lower(p->coords, ix->bound_blocks + (size_t)b * BOUND * LANES, p->bound_limit) : 0xffff; \
      if (alive == 0) continue;                                                                                        \
      const int mask = distances(p->query, ix->blocks + (size_t)b * ix->width * LANES, ix->width, manhattan, p->limit, alive, out); \
      if (mask != 0) {                                                                                                 \
        *block = b;                                                                                                    \
        return mask;                                                                                                   \
      }                                                                                                                \
    }                                                                                                                  \
    *block = end;                                                                                                      \
    return 0;                                                                                                          \
  }

RUN(run_portable_l2, distances_portable, lower_portable, false, )
RUN(run_portable_l1, distances_portable, lower_portable, true, )

#if defined(__x86_64__)
/** AVX2 kernel: each column's 16 lanes as two vectors of 8. */
__attribute__((target("avx2,fma"), always_inline)) static inline int distances_avx2(const float *query, const float *block, int w, bool manhattan, float limit, int alive, float out[LANES]) {
  __m256 lo[4], hi[4];
  for (int t = 0; t < 4; t++) lo[t] = hi[t] = _mm256_setzero_ps();
  const __m256 abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fffffff));
  const __m256 lim = _mm256_set1_ps(limit);
  for (int c = 0; c < w; c += 4) {
    for (int t = 0; t < 4; t++) {
      const __m256 q = _mm256_broadcast_ss(query + c + t);
      const __m256 a = _mm256_sub_ps(q, _mm256_loadu_ps(block + (size_t)(c + t) * LANES));
      const __m256 b = _mm256_sub_ps(q, _mm256_loadu_ps(block + (size_t)(c + t) * LANES + 8));
      lo[t] = manhattan ? _mm256_add_ps(lo[t], _mm256_and_ps(a, abs_mask)) : _mm256_fmadd_ps(a, a, lo[t]);
      hi[t] = manhattan ? _mm256_add_ps(hi[t], _mm256_and_ps(b, abs_mask)) : _mm256_fmadd_ps(b, b, hi[t]);
    }
    const __m256 sum_lo = _mm256_add_ps(_mm256_add_ps(lo[0], lo[1]), _mm256_add_ps(lo[2], lo[3]));
    const __m256 sum_hi = _mm256_add_ps(_mm256_add_ps(hi[0], hi[1]), _mm256_add_ps(hi[2], hi[3]));
    const int mask = (_mm256_movemask_ps(_mm256_cmp_ps(sum_lo, lim, _CMP_LE_OQ)) | _mm256_movemask_ps(_mm256_cmp_ps(sum_hi, lim, _CMP_LE_OQ)) << 8) & alive;
    if (mask == 0 || c + 4 >= w) {
      _mm256_storeu_ps(out, sum_lo);
      _mm256_storeu_ps(out + 8, sum_hi);
      return mask;
    }
  }
  return 0;
}

__attribute__((target("avx2,fma"), always_inline)) static inline int lower_avx2(const float *coords, const float *block, float limit) {
  __m256 lo[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()}, hi[2] = {lo[0], lo[0]};
  for (int c = 0; c < BOUND; c++) {
    const __m256 q = _mm256_broadcast_ss(coords + c);
    const __m256 a = _mm256_sub_ps(q, _mm256_loadu_ps(block + (size_t)c * LANES));
    const __m256 b = _mm256_sub_ps(q, _mm256_loadu_ps(block + (size_t)c * LANES + 8));
    lo[c & 1] = _mm256_fmadd_ps(a, a, lo[c & 1]);
    hi[c & 1] = _mm256_fmadd_ps(b, b, hi[c & 1]);
  }
  const __m256 lim = _mm256_set1_ps(limit);
  return _mm256_movemask_ps(_mm256_cmp_ps(_mm256_add_ps(lo[0], lo[1]), lim, _CMP_LE_OQ)) |
         _mm256_movemask_ps(_mm256_cmp_ps(_mm256_add_ps(hi[0], hi[1]), lim, _CMP_LE_OQ)) << 8;
}

RUN(run_avx2_l2, distances_avx2, lower_avx2, false, __attribute__((target("avx2,fma"))))
RUN(run_avx2_l1, distances_avx2, lower_avx2, true, __attribute__((target("avx2,fma"))))

/** AVX-512 kernels: a column's 16 lanes in one vector. */
__attribute__((target("avx512f"), always_inline)) static inline int distances_avx512(const float *query, const float *block, int w, bool manhattan, float limit, int alive, float out[LANES]) {
  __m512 acc[4];
  for (int t = 0; t < 4; t++) acc[t] = _mm512_setzero_ps();
  const __m512 lim = _mm512_set1_ps(limit);
  for (int c = 0; c < w; c += 8) {
    for (int t = 0; t < 8; t++) {
      const __m512 diff = _mm512_sub_ps(_mm512_set1_ps(query[c + t]), _mm512_loadu_ps(block + (size_t)(c + t) * LANES));
      acc[t & 3] = manhattan ? _mm512_add_ps(acc[t & 3], _mm512_abs_ps(diff)) : _mm512_fmadd_ps(diff, diff, acc[t & 3]);
    }
    const __m512 sum = _mm512_add_ps(_mm512_add_ps(acc[0], acc[1]), _mm512_add_ps(acc[2], acc[3]));
    const int mask = _mm512_cmp_ps_mask(sum, lim, _CMP_LE_OQ) & alive;
    if (mask == 0 || c + 8 >= w) {
      _mm512_storeu_ps(out, sum);
      return mask;
    }
  }
  return 0;
}

__attribute__((target("avx512f"), always_inline)) static inline int lower_avx512(const float *coords, const float *block, float limit) {
  __m512 acc[2] = {_mm512_setzero_ps(), _mm512_setzero_ps()};
  for (int c = 0; c < BOUND; c++) {
    const __m512 diff = _mm512_sub_ps(_mm512_set1_ps(coords[c]), _mm512_loadu_ps(block + (size_t)c * LANES));
    acc[c & 1] = _mm512_fmadd_ps(diff, diff, acc[c & 1]);
  }
  return _mm512_cmp_ps_mask(_mm512_add_ps(acc[0], acc[1]), _mm512_set1_ps(limit), _CMP_LE_OQ);
}

RUN(run_avx512_l2, distances_avx512, lower_avx512, false, __attribute__((target("avx512f"))))
RUN(run_avx512_l1, distances_avx512, lower_avx512, true, __attribute__((target("avx512f"))))
#endif

/** The kernels this CPU runs best: "avx512", "avx2" (with FMA) or "portable". */
static const char *best_kernels(void) {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return "avx512";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "avx2";
#endif
  return "portable";
}


typedef void (*exact_fn)(const index_t *ix, const float *q, const int32_t *rows, int count, double *out);

typedef struct {
  const index_t *ix;
  const float *queries;
  int nq, k, k_eff;
  bool exclude_self;
  run_fn run;
  exact_fn exact;
  double (*coordinates)(const index_t *ix, const float *x, float *coords, double *coords64);
  int32_t *out_idx;
  double *out_dist;
  /** Queries in the order searched (by coordinate), and each query's coordinate. */
  int32_t *visit;
  double *query_key;
  int chunks;
  int next_chunk; // atomic
  int failed;     // atomic: a thread ran out of memory
} search;

typedef struct {
  float *query;
  /** The query's principal coordinates (float32 and float64). */
  float *coords;
  double *coords64;
  /** The k smallest float32 values so far, ascending. */
  float *smallest;
  int smallest_size;
  /** Candidates: rows whose value was within the bound when measured. */
  int32_t *cand_row;
  float *cand_value;
  int cand_count, cand_capacity;
  /** The candidates left for the re-check, their exact distances, and the k best by (exact distance, row). */
  int32_t *check_row;
  double *check_exact;
  double *best_exact;
  int32_t *best_row;
} scratch;

static void index_free(index_t *ix) {
  if (!ix) return;
  free(ix->data);
  free(ix->blocks);
  free(ix->row_at);
  free(ix->key_low);
  free(ix->key_high);
  free(ix->direction);
  free(ix->columns);
  free(ix->basis);
  free(ix->bound_blocks);
  free(ix);
}

/** Exact reduced distance of a query to one row, in float64, summed in column order as kernels.ts's reducedDistance. */
static double exact_one(const float *x, const float *q, int d, bool manhattan) {
  double sum = 0;
  for (int j = 0; j < d; j++) {
    const double diff = (double)x[j] - (double)q[j];
    sum += manhattan ? fabs(diff) : diff * diff;
  }
  return sum;
}

/**
 * Exact reduced distances of a query to rows[0 .. count) into out, four rows at a time: the same float64 operations
 * per row as exact_one (independent sums, so they overlap), hence the same values. Portable version.
 */
static void exact_portable(const index_t *ix, const float *q, const int32_t *rows, int count, double *out) {
  const int d = ix->d;
  int c = 0;
  for (; c + 4 <= count; c += 4) {
    const float *x0 = ix->data + (size_t)rows[c] * d, *x1 = ix->data + (size_t)rows[c + 1] * d;
    const float *x2 = ix->data + (size_t)rows[c + 2] * d, *x3 = ix->data + (size_t)rows[c + 3] * d;
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (int j = 0; j < d; j++) {
      const double v = q[j], d0 = x0[j] - v, d1 = x1[j] - v, d2 = x2[j] - v, d3 = x3[j] - v;
      if (ix->manhattan) {
        s0 += fabs(d0);
        s1 += fabs(d1);
        s2 += fabs(d2);
        s3 += fabs(d3);
      } else {
        s0 += d0 * d0;
        s1 += d1 * d1;
        s2 += d2 * d2;
        s3 += d3 * d3;
      }
    }
    out[c] = s0;
    out[c + 1] = s1;
    out[c + 2] = s2;
    out[c + 3] = s3;
  }
  for (; c < count; c++) out[c] = exact_one(ix->data + (size_t)rows[c] * d, q, d, ix->manhattan);
}

#if defined(__x86_64__)
/** sum + |x − q| or (x − q)² per lane, x the four rows' values of one column (multiply and add, never fused). */
__attribute__((target("avx2"), always_inline)) static inline __m256d exact_term(__m256d sum, __m128 x, double q, bool manhattan) {
  const __m256d diff = _mm256_sub_pd(_mm256_cvtps_pd(x), _mm256_set1_pd(q));
  return _mm256_add_pd(sum, manhattan ? _mm256_andnot_pd(_mm256_set1_pd(-0.0), diff) : _mm256_mul_pd(diff, diff));
}

/** As exact_portable, the four rows in the lanes of one AVX vector. */
__attribute__((target("avx2"))) static void exact_avx2(const index_t *ix, const float *q, const int32_t *rows, int count, double *out) {
  const int d = ix->d;
  int c = 0;
  for (; c + 4 <= count; c += 4) {
    const float *x0 = ix->data + (size_t)rows[c] * d, *x1 = ix->data + (size_t)rows[c + 1] * d;
    const float *x2 = ix->data + (size_t)rows[c + 2] * d, *x3 = ix->data + (size_t)rows[c + 3] * d;
    __m256d sum = _mm256_setzero_pd();
    int j = 0;
    // Four columns of the four rows at a time, transposed in registers: the same operations in the same order.
    for (; j + 4 <= d; j += 4) {
      __m128 c0 = _mm_loadu_ps(x0 + j), c1 = _mm_loadu_ps(x1 + j), c2 = _mm_loadu_ps(x2 + j), c3 = _mm_loadu_ps(x3 + j);
      _MM_TRANSPOSE4_PS(c0, c1, c2, c3);
      sum = exact_term(sum, c0, q[j], ix->manhattan);
      sum = exact_term(sum, c1, q[j + 1], ix->manhattan);
      sum = exact_term(sum, c2, q[j + 2], ix->manhattan);
      sum = exact_term(sum, c3, q[j + 3], ix->manhattan);
    }
    for (; j < d; j++) sum = exact_term(sum, _mm_setr_ps(x0[j], x1[j], x2[j], x3[j]), q[j], ix->manhattan);
    _mm256_storeu_pd(out + c, sum);
  }
  for (; c < count; c++) out[c] = exact_one(ix->data + (size_t)rows[c] * d, q, d, ix->manhattan);
}
#endif

/** The smallest float >= x (x >= 0 or +inf). */
static float float_at_least(double x) {
  float f = (float)x;
  if ((double)f < x) {
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    bits++;
    memcpy(&f, &bits, sizeof f);
  }
  return f;
}

/**
 * Inserts v into the ascending list of the cap smallest values so far (the largest drops out when it is full), by
 * insertion from the top: measured cheaper than a heap for k of ~20.
 */
static void smallest_offer(scratch *w, int cap, float v) {
  float *list = w->smallest;
  const int size = w->smallest_size;
  if (size == cap && v >= list[cap - 1]) return;
  int i = size < cap ? size : cap - 1;
  for (; i > 0 && list[i - 1] > v; i--) list[i] = list[i - 1];
  list[i] = v;
  if (size < cap) w->smallest_size = size + 1;
}

/** Keeps the candidates with values <= limit; grows the list when it stays over half full. */
static bool compact(scratch *w, float limit) {
  int kept = 0;
  for (int c = 0; c < w->cand_count; c++) {
    if (w->cand_value[c] > limit) continue;
    w->cand_row[kept] = w->cand_row[c];
    w->cand_value[kept++] = w->cand_value[c];
  }
  w->cand_count = kept;
  if (2 * kept < w->cand_capacity) return true;
  const int capacity = 2 * w->cand_capacity;
  int32_t *rows = realloc(w->cand_row, sizeof *rows * capacity);
  if (rows) w->cand_row = rows;
  float *values = realloc(w->cand_value, sizeof *values * capacity);
  if (values) w->cand_value = values;
  int32_t *check = rows && values ? realloc(w->check_row, sizeof *check * capacity) : NULL;
  if (check) w->check_row = check;
  double *exact = check ? realloc(w->check_exact, sizeof *exact * capacity) : NULL;
  if (exact) w->check_exact = exact;
  if (!exact) return false;
  w->cand_capacity = capacity;
  return true;
}

/**
 * One query's bound: an upper bound on its k-th exact distance (from k measured rows: an exact distance e has a float32
 * value v >= e·(1 − rel) − ABS_TOL), and the largest float32 value a row within it can have (v <= e·(1 + rel) + ABS_TOL).
 */
typedef struct {
  int q;
  double upper;
  /** The kernels' view: limits derived from `upper`. */
  probe p;
  /** Error of the query's float32 principal coordinates plus the rows' largest. */
  double coord_error;
} bound;

/**
 * Sets the bound to `upper` when lower. The principal-coordinate limit: for U with ‖UᵀU − I‖ <= η, ‖Uᵀz‖ <= sqrt(1 + η)
 * ‖z‖ <= sqrt(1 + η) ‖z‖₁, and float32 coordinates move the distance between them by at most the coordinate errors; a
 * row whose float32 value there (relative error bound_rel) passes the limit is farther than `upper`.
 */
static void set_upper(const index_t *ix, bound *b, double upper) {
  if (!(upper < b->upper)) return;
  b->upper = upper;
  b->p.limit = float_at_least((upper * ix->limit_factor + ABS_TOL) * (1 + 1e-12));
  if (ix->pcs) {
    const double reach = (ix->manhattan ? upper : sqrt(upper)) * ix->spread_factor + b->coord_error;
    b->p.bound_limit = float_at_least((reach * reach * (1 + ix->bound_rel) + ABS_TOL) * (1 + 1e-9));
  }
}

static void tighten(const index_t *ix, bound *b, float kth_value) {
  set_upper(ix, b, (kth_value + ABS_TOL) * ix->upper_factor);
}

/** Measures the rows at positions p0 .. p1 against the query, collecting candidates; false when out of memory. */
static bool measure(const search *s, scratch *w, bound *b, int p0, int p1) {
  const index_t *ix = s->ix;
  const int skip = s->exclude_self ? b->q : -1;
  const int end = (p1 + LANES - 1) / LANES;
  for (int block = p0 / LANES; block < end; block++) {
    float values[LANES];
    int mask = s->run(ix, &b->p, &block, end, values);
    const int first = block * LANES;
    if (first < p0) mask &= ~((1 << (p0 - first)) - 1);
    if (first + LANES > p1) mask &= (1 << (p1 - first)) - 1;
    while (mask != 0) {
      const int lane = __builtin_ctz(mask);
      mask &= mask - 1;
      const float v = values[lane];
      const int row = ix->row_at[first + lane];
      if (v > b->p.limit || row == skip) continue;
      if (w->cand_count == w->cand_capacity && !compact(w, b->p.limit)) return false;
      w->cand_row[w->cand_count] = row;
      w->cand_value[w->cand_count++] = v;
      smallest_offer(w, s->k_eff, v);
    }
    // Once per block: lanes of one block are measured against the same limits anyway.
    if (w->smallest_size == s->k_eff) tighten(ix, b, w->smallest[s->k_eff - 1]);
  }
  return true;
}

/** The first position in keys[lo .. hi) with a key >= x (hi when none). */
static int first_at_least(const double *keys, int lo, int hi, double x) {
  while (lo < hi) {
    const int mid = (lo + hi) >> 1;
    if (keys[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The bound from the query searched before (prev, -1: none): its k nearest rows (and itself, among self-queries, in
 * place of this query) lie within dist(q, prev) + its k-th distance of q (triangle inequality, both metrics).
 */
static void seed(const search *s, bound *b, int prev) {
  const index_t *ix = s->ix;
  if (prev < 0 || s->k_eff < s->k) return;
  const double kth = s->out_dist[(size_t)prev * s->k + s->k - 1];
  const double between = exact_one(s->queries + (size_t)prev * ix->d, s->queries + (size_t)b->q * ix->d, ix->d, ix->manhattan);
  // Float64 rounding of both distances (d terms each) with a wide margin.
  const double margin = 1 + 4 * (ix->d + 2) * 0x1p-53;
  const double reach = ((ix->manhattan ? between : sqrt(between)) + kth) * margin;
  set_upper(ix, b, (ix->manhattan ? reach : reach * reach) * margin);
}

/**
 * The float32 error of principal coordinates computed in float64 (coords64) and rounded (coords), as a bound on its
 * Euclidean norm: the rounding to float32, measured, plus float64's (each coordinate within d·2⁻⁵³·‖x‖ of the exact
 * product, fused or not, a factor 2 of margin). coords[PCS] gets the norm of x off the directions, ρ = ‖(I − P)x‖ (P
 * the projection on them): from ‖x‖² − ‖Uᵀx‖², within E = (16 (d + PCS) 2⁻⁵³ + 4η) ‖x‖² of ρ² (the roundings, and
 * ‖Uᵀx‖² against ‖Px‖² for ‖UᵀU − I‖ <= η), so within √E of ρ. As ‖Uᵀz‖ <= √(1 + η) ‖Pz‖ and
 * |ρ(q) − ρ(x)| <= ‖(I − P)z‖ for z = q − x, the bound's BOUND columns keep the distance rule of the PCS alone
 * (set_upper), with √E added to each side's error.
 */
static double coordinate_error(const index_t *ix, float *coords, const double *coords64, double norm2) {
  double rounding = 0, projected = 0;
  for (int i = 0; i < PCS; i++) {
    coords[i] = (float)coords64[i];
    rounding += ((double)coords[i] - coords64[i]) * ((double)coords[i] - coords64[i]);
    projected += coords64[i] * coords64[i];
  }
  const double residual = sqrt(fmax(0, norm2 - projected));
  coords[PCS] = (float)residual;
  rounding += ((double)coords[PCS] - residual) * ((double)coords[PCS] - residual);
  const double eta = ix->spread_factor * ix->spread_factor - 1; // >= η
  const double residual_error = sqrt((16.0 * (ix->d + PCS) * 0x1p-53 + 4 * eta) * norm2);
  return sqrt(rounding) * (1 + 1e-9) + 2 * sqrt((double)PCS) * (ix->d + 2) * 0x1p-53 * sqrt(norm2) + residual_error;
}

/** A row's principal coordinates Uᵀx (float32 into coords) and the bound on their error (coordinate_error). */
static double coordinates_portable(const index_t *ix, const float *x, float *coords, double *coords64) {
  double norm2 = 0;
  for (int i = 0; i < PCS; i++) coords64[i] = 0;
  for (int a = 0; a < ix->d; a++) {
    const double v = x[a];
    const double *u = ix->basis + (size_t)a * PCS;
    norm2 += v * v;
    for (int i = 0; i < PCS; i++) coords64[i] += u[i] * v;
  }
  return coordinate_error(ix, coords, coords64, norm2);
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma"))) static double coordinates_avx2(const index_t *ix, const float *x, float *coords, double *coords64) {
  __m256d acc[PCS / 4];
  for (int i = 0; i < PCS / 4; i++) acc[i] = _mm256_setzero_pd();
  double norm2 = 0;
  for (int a = 0; a < ix->d; a++) {
    const double v = x[a];
    const __m256d vv = _mm256_set1_pd(v);
    norm2 += v * v;
    for (int i = 0; i < PCS / 4; i++) acc[i] = _mm256_fmadd_pd(_mm256_loadu_pd(ix->basis + (size_t)a * PCS + 4 * i), vv, acc[i]);
  }
  for (int i = 0; i < PCS / 4; i++) _mm256_storeu_pd(coords64 + 4 * i, acc[i]);
  return coordinate_error(ix, coords, coords64, norm2);
}
#endif

/** Query q's k nearest rows into the outputs; prev is the query searched before it (-1: none). */
static bool search_query(const search *s, scratch *w, int q, int prev) {
  const index_t *ix = s->ix;
  const int d = ix->d, n = ix->n;
  const float *query = s->queries + (size_t)q * d;
  for (int c = 0; c < d; c++) w->query[c] = query[ix->columns[c]];
  bound b = {q, INFINITY, {w->query, w->coords, INFINITY, INFINITY}, 0};
  if (ix->pcs) b.coord_error = ix->coord_error + s->coordinates(ix, query, w->coords, w->coords64);
  w->smallest_size = 0;
  w->cand_count = 0;
  const int k_eff = s->k_eff;
  if (k_eff > 0) {
    seed(s, &b, prev);
    const double key = s->query_key[q];
    double norm = 0;
    for (int j = 0; j < d; j++) norm += (double)query[j] * query[j];
    // Rounding of both coordinates (d products and sums each, terms <= the norms), as sorted.ts.
    const double slack = 4 * d * 0x1p-53 * (ix->max_norm + sqrt(norm)) + 1e-300;
    // Positions before `right` are in groups whose coordinates are all below the query's.
    int right = first_at_least(ix->key_high, 0, n, key), left = right, run = FIRST_RUN;
    while (left > 0 || right < n) {
      // A row at coordinate gap g has exact distance >= g^2 (euclidean) or >= g (manhattan); each side stops at the
      // first group whose whole coordinate range lies beyond the reach.
      const double reach = (ix->manhattan ? b.upper : sqrt(b.upper)) * (1 + 1e-12) + slack;
      const int hi_end = right + run < n ? right + run : n;
      const int right_end = isinf(reach) ? hi_end : first_at_least(ix->key_low, right, hi_end, key + reach);
      if (right_end > right && !measure(s, w, &b, right, right_end)) return false;
      right = right_end < hi_end ? n : right_end;
      const int lo_start = left - run > 0 ? left - run : 0;
      const int left_start = isinf(reach) ? lo_start : first_at_least(ix->key_high, lo_start, left, key - reach);
      if (left > left_start && !measure(s, w, &b, left_start, left)) return false;
      left = left_start > lo_start ? 0 : left_start;
      if (run < MAX_RUN) run *= 2;
    }
  }
  // Every row whose exact distance is within the final bound is a candidate: the k nearest are among them.
  int checks = 0;
  for (int c = 0; c < w->cand_count; c++)
    if (w->cand_value[c] <= b.p.limit) w->check_row[checks++] = w->cand_row[c];
  s->exact(ix, query, w->check_row, checks, w->check_exact);
  int found = 0;
  for (int c = 0; c < checks; c++) {
    const int32_t row = w->check_row[c];
    const double e = w->check_exact[c];
    if (found == k_eff && (e > w->best_exact[found - 1] || (e == w->best_exact[found - 1] && row > w->best_row[found - 1]))) continue;
    int at = found < k_eff ? found++ : found - 1;
    while (at > 0 && (w->best_exact[at - 1] > e || (w->best_exact[at - 1] == e && w->best_row[at - 1] > row))) {
      w->best_exact[at] = w->best_exact[at - 1];
      w->best_row[at] = w->best_row[at - 1];
      at--;
    }
    w->best_exact[at] = e;
    w->best_row[at] = row;
  }
  const size_t o = (size_t)q * s->k;
  for (int c = 0; c < s->k; c++) {
    s->out_idx[o + c] = c < found ? w->best_row[c] : -1;
    s->out_dist[o + c] = c < found ? (ix->manhattan ? w->best_exact[c] : sqrt(w->best_exact[c])) : INFINITY;
  }
  return true;
}

static void *work(void *arg) {
  search *s = arg;
  scratch w = {0};
  w.query = calloc((size_t)s->ix->width, sizeof *w.query);
  w.coords = malloc(sizeof *w.coords * BOUND);
  w.coords64 = malloc(sizeof *w.coords64 * PCS);
  w.smallest = malloc(sizeof *w.smallest * (s->k_eff + 1));
  w.cand_capacity = 4 * s->k + 64;
  w.cand_row = malloc(sizeof *w.cand_row * w.cand_capacity);
  w.cand_value = malloc(sizeof *w.cand_value * w.cand_capacity);
  w.check_row = malloc(sizeof *w.check_row * w.cand_capacity);
  w.check_exact = malloc(sizeof *w.check_exact * w.cand_capacity);
  w.best_exact = malloc(sizeof *w.best_exact * (s->k + 1));
  w.best_row = malloc(sizeof *w.best_row * (s->k + 1));
  bool ok = w.query && w.coords && w.coords64 && w.smallest && w.cand_row && w.cand_value && w.check_row && w.check_exact && w.best_exact && w.best_row;
  while (ok) {
    const int chunk = __atomic_fetch_add(&s->next_chunk, 1, __ATOMIC_RELAXED);
    if (chunk >= s->chunks || __atomic_load_n(&s->failed, __ATOMIC_RELAXED)) break;
    const int end = (chunk + 1) * CHUNK < s->nq ? (chunk + 1) * CHUNK : s->nq;
    for (int t = chunk * CHUNK; t < end && ok; t++) ok = search_query(s, &w, s->visit[t], t > chunk * CHUNK ? s->visit[t - 1] : -1);
  }
  if (!ok) __atomic_store_n(&s->failed, 1, __ATOMIC_RELAXED);
  free(w.query);
  free(w.coords);
  free(w.coords64);
  free(w.smallest);
  free(w.cand_row);
  free(w.cand_value);
  free(w.check_row);
  free(w.check_exact);
  free(w.best_exact);
  free(w.best_row);
  return NULL;
}

/** The k-th smallest of v[0 .. n) (v reordered): Hoare's selection (FIND, CACM 1961). */
static double select_kth(double *v, int n, int k) {
  int lo = 0, hi = n - 1;
  while (lo < hi) {
    const double pivot = v[lo + (hi - lo) / 2];
    int i = lo, j = hi;
    while (i <= j) {
      while (v[i] < pivot) i++;
      while (v[j] > pivot) j--;
      if (i <= j) {
        const double t = v[i];
        v[i++] = v[j];
        v[j--] = t;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else break;
  }
  return v[k];
}

/**
 * Orthonormalises the m columns of a d × m row-major matrix (modified Gram–Schmidt, twice); a column that vanishes
 * against the earlier ones is replaced by the next unit axis.
 */
static void orthonormalize(double *v, int d, int m) {
  for (int i = 0, axis = 0; i < m; i++) {
    for (;;) {
      double before = 0, norm = 0;
      for (int a = 0; a < d; a++) before += v[(size_t)a * m + i] * v[(size_t)a * m + i];
      for (int pass = 0; pass < 2; pass++)
        for (int p = 0; p < i; p++) {
          double dot = 0;
          for (int a = 0; a < d; a++) dot += v[(size_t)a * m + i] * v[(size_t)a * m + p];
          for (int a = 0; a < d; a++) v[(size_t)a * m + i] -= dot * v[(size_t)a * m + p];
        }
      for (int a = 0; a < d; a++) norm += v[(size_t)a * m + i] * v[(size_t)a * m + i];
      if ((norm > 1e-12 * before && norm > 0) || axis >= d) {
        norm = sqrt(norm);
        for (int a = 0; a < d && norm > 0; a++) v[(size_t)a * m + i] /= norm;
        break;
      }
      for (int a = 0; a < d; a++) v[(size_t)a * m + i] = a == axis;
      axis++;
    }
  }
}

/**
 * order = 0 .. n − 1 by keys[i], ties by i: a stable radix sort, a byte a pass, of the keys' bits mapped to unsigned
 * integers in the keys' order (−0 read as +0); a pass where every key has the same byte is skipped. qsort_r's
 * comparator calls took ~0.6 ms of the 7,818 CIC-IDS2017 test rows' search, before its threads start.
 */
static bool sort_by_key(int32_t *order, const double *keys, int n) {
  uint64_t *bits = malloc(sizeof *bits * (n + 1)), *bits_to = malloc(sizeof *bits_to * (n + 1));
  int32_t *scratch = malloc(sizeof *scratch * (n + 1)), *from = order, *to = scratch;
  const bool ok = bits && bits_to && scratch;
  for (int i = 0; ok && i < n; i++) {
    const double key = keys[i] + 0.0;
    uint64_t b;
    memcpy(&b, &key, sizeof b);
    bits[i] = b >> 63 ? ~b : b | 1ULL << 63;
    order[i] = i;
  }
  for (int shift = 0; ok && n > 0 && shift < 64; shift += 8) {
    int start[257] = {0};
    for (int i = 0; i < n; i++) start[(bits[i] >> shift & 255) + 1]++;
    if (start[(bits[0] >> shift & 255) + 1] == n) continue;
    for (int v = 0; v < 256; v++) start[v + 1] += start[v];
    for (int i = 0; i < n; i++) {
      const int at = start[bits[i] >> shift & 255]++;
      bits_to[at] = bits[i];
      to[at] = from[i];
    }
    uint64_t *swap_bits = bits;
    bits = bits_to;
    bits_to = swap_bits;
    int32_t *swap = from;
    from = to;
    to = swap;
  }
  if (ok && from != order) memcpy(order, from, sizeof *order * n);
  free(bits);
  free(bits_to);
  free(scratch);
  return ok;
}

/**
 * The m leading principal directions (d × m, row-major, into `basis`) of up to SAMPLE_ROWS evenly spaced rows, the TRIM
 * share farthest from their coordinate-wise median left out (as projection.ts's principalDirections with its trim), by
 * subspace iteration on their covariance. They only steer the pruning: the first orders the rows, the others give the
 * lower bound, whose error bounds hold for any basis (η measured).
 */
static bool principal_basis(const index_t *ix, double *basis, int m) {
  const int n = ix->n, d = ix->d, s = n < SAMPLE_ROWS ? n : SAMPLE_ROWS;
  double *rows = malloc(sizeof *rows * ((size_t)s * d + 1)), *column = malloc(sizeof *column * (s + 1)), *far = malloc(sizeof *far * (s + 1));
  double *median = malloc(sizeof *median * d), *mean = calloc(d, sizeof *mean), *cov = calloc((size_t)d * d, sizeof *cov);
  double *next = malloc(sizeof *next * (size_t)d * m);
  const bool ok = rows && column && far && median && mean && cov && next;
  if (ok && s > 0) {
    for (int t = 0; t < s; t++)
      for (int j = 0; j < d; j++) rows[(size_t)t * d + j] = ix->data[(size_t)((long)t * n / s) * d + j];
    for (int j = 0; j < d; j++) {
      for (int t = 0; t < s; t++) column[t] = rows[(size_t)t * d + j];
      median[j] = select_kth(column, s, s >> 1);
    }
    for (int t = 0; t < s; t++) {
      double sum = 0;
      for (int j = 0; j < d; j++) sum += (rows[(size_t)t * d + j] - median[j]) * (rows[(size_t)t * d + j] - median[j]);
      far[t] = column[t] = sum;
    }
    const int at = (int)ceil((1 - TRIM) * s) - 1;
    const double limit = select_kth(column, s, at > 0 ? at : 0);
    int kept = 0;
    for (int t = 0; t < s; t++) {
      if (far[t] > limit) continue;
      memmove(rows + (size_t)kept * d, rows + (size_t)t * d, sizeof *rows * d);
      kept++;
    }
    for (int t = 0; t < kept; t++)
      for (int j = 0; j < d; j++) mean[j] += rows[(size_t)t * d + j] / kept;
    for (int t = 0; t < kept; t++) {
      double *r = rows + (size_t)t * d;
      for (int j = 0; j < d; j++) r[j] -= mean[j];
      for (int a = 0; a < d; a++)
        for (int b = a; b < d; b++) cov[(size_t)a * d + b] += r[a] * r[b];
    }
    for (int a = 0; a < d; a++)
      for (int b = 0; b < a; b++) cov[(size_t)a * d + b] = cov[(size_t)b * d + a];
  }
  if (ok) {
    // A fixed start, then basis <- orth(C · basis).
    for (int a = 0; a < d; a++)
      for (int i = 0; i < m; i++) basis[(size_t)a * m + i] = (a == i) + 0.5 * sin(1.0 + a + 7.3 * i);
    orthonormalize(basis, d, m);
    for (int it = 0; it < ITERATIONS; it++) {
      memset(next, 0, sizeof *next * (size_t)d * m);
      for (int a = 0; a < d; a++)
        for (int b = 0; b < d; b++) {
          const double c = cov[(size_t)a * d + b];
          if (c == 0) continue;
          for (int i = 0; i < m; i++) next[(size_t)a * m + i] += c * basis[(size_t)b * m + i];
        }
      orthonormalize(next, d, m);
      memcpy(basis, next, sizeof *basis * (size_t)d * m);
    }
  }
  free(rows);
  free(column);
  free(far);
  free(median);
  free(mean);
  free(cov);
  free(next);
  return ok;
}

/** Kernel columns by decreasing variance of the rows (ties: the lower column), so partial sums pass bounds early. */
static bool columns_by_variance(index_t *ix) {
  const int n = ix->n, d = ix->d;
  double *mean = calloc(d, sizeof *mean), *var = calloc(d, sizeof *var);
  if (!mean || !var) {
    free(mean);
    free(var);
    return false;
  }
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) mean[j] += ix->data[(size_t)i * d + j];
  for (int j = 0; j < d; j++) mean[j] /= n > 0 ? n : 1;
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) var[j] += (ix->data[(size_t)i * d + j] - mean[j]) * (ix->data[(size_t)i * d + j] - mean[j]);
  for (int a = 0; a < d; a++) {
    const int32_t c = a;
    int b = a;
    while (b > 0 && var[ix->columns[b - 1]] < var[c]) {
      ix->columns[b] = ix->columns[b - 1];
      b--;
    }
    ix->columns[b] = c;
  }
  free(mean);
  free(var);
  return true;
}

/** Reorders each group of GROUP positions by the rows' coordinate on the second principal direction. */
static bool order_groups(index_t *ix, const float *data) {
  double second[GROUP];
  int32_t order[GROUP], rows[GROUP];
  for (int g0 = 0; g0 < ix->n; g0 += GROUP) {
    const int count = ix->n - g0 < GROUP ? ix->n - g0 : GROUP;
    for (int t = 0; t < count; t++) {
      rows[t] = ix->row_at[g0 + t];
      const float *x = data + (size_t)rows[t] * ix->d;
      second[t] = 0;
      for (int j = 0; j < ix->d; j++) second[t] += (double)x[j] * ix->basis[(size_t)j * PCS + 1];
    }
    if (!sort_by_key(order, second, count)) return false;
    for (int t = 0; t < count; t++) ix->row_at[g0 + t] = rows[order[t]];
  }
  return true;
}

static index_t *index_build(const float *data, int n, int d, bool manhattan) {
  index_t *ix = calloc(1, sizeof *ix);
  if (!ix) return NULL;
  ix->n = n;
  ix->d = d;
  ix->manhattan = manhattan;
  ix->width = (d + 7) / 8 * 8;
  // Per lane: the difference and its square rounded, four accumulators of width / 4 terms, two levels of additions;
  // with a factor 4 of margin.
  ix->rel = (ix->width + 8) * 0x1p-22;
  ix->upper_factor = 1 / (1 - ix->rel) * (1 + 1e-12);
  ix->limit_factor = 1 + ix->rel;
  const int blocks = (n + LANES - 1) / LANES;
  ix->data = malloc(sizeof *ix->data * ((size_t)n * d + 1));
  ix->blocks = calloc((size_t)blocks * ix->width * LANES + 1, sizeof *ix->blocks);
  ix->row_at = malloc(sizeof *ix->row_at * (n + 1));
  ix->key_low = malloc(sizeof *ix->key_low * (n + 1));
  ix->key_high = malloc(sizeof *ix->key_high * (n + 1));
  ix->direction = malloc(sizeof *ix->direction * d);
  ix->columns = malloc(sizeof *ix->columns * d);
  if (!ix->data || !ix->blocks || !ix->row_at || !ix->key_low || !ix->key_high || !ix->direction || !ix->columns) {
    index_free(ix);
    return NULL;
  }
  memcpy(ix->data, data, sizeof *data * (size_t)n * d);
  // The first principal direction orders the rows; with more than PCS columns, PCS of them give the lower bound.
  const int m = d > PCS ? PCS : 1;
  double *basis = malloc(sizeof *basis * (size_t)d * m);
  if (!basis || !principal_basis(ix, basis, m) || !columns_by_variance(ix)) {
    free(basis);
    index_free(ix);
    return NULL;
  }
  for (int a = 0; a < d; a++) ix->direction[a] = basis[(size_t)a * m];
  if (m == PCS) {
    ix->pcs = PCS;
    ix->basis = basis;
    // η >= ‖UᵀU − I‖₂ (the sum of |entries| bounds it), with the rounding of the products.
    double eta = 2.0 * PCS * PCS * (d + 2) * 0x1p-53;
    for (int i = 0; i < PCS; i++)
      for (int j = 0; j < PCS; j++) {
        double dot = 0;
        for (int a = 0; a < d; a++) dot += basis[(size_t)a * PCS + i] * basis[(size_t)a * PCS + j];
        eta += fabs(dot - (i == j));
      }
    ix->spread_factor = sqrt(1 + eta) * (1 + 1e-12);
    // As rel, for PCS columns in two accumulators.
    ix->bound_rel = (BOUND + 8) * 0x1p-22;
    ix->bound_blocks = calloc((size_t)blocks * BOUND * LANES + 1, sizeof *ix->bound_blocks);
    if (!ix->bound_blocks) {
      index_free(ix);
      return NULL;
    }
  } else {
    free(basis);
  }
  double *raw = malloc(sizeof *raw * (n + 1));
  if (!raw) {
    index_free(ix);
    return NULL;
  }
  double (*coordinates)(const index_t *, const float *, float *, double *) = coordinates_portable;
#if defined(__x86_64__)
  if (strcmp(best_kernels(), "portable") != 0) coordinates = coordinates_avx2;
#endif
  double max_norm = 0;
  for (int i = 0; i < n; i++) {
    double key = 0, norm = 0;
    for (int j = 0; j < d; j++) {
      const double v = data[(size_t)i * d + j];
      key += v * ix->direction[j];
      norm += v * v;
    }
    raw[i] = key;
    if (norm > max_norm) max_norm = norm;
  }
  ix->max_norm = sqrt(max_norm);
  if (!sort_by_key(ix->row_at, raw, n)) {
    free(raw);
    index_free(ix);
    return NULL;
  }
  if (ix->pcs && !order_groups(ix, data)) {
    free(raw);
    index_free(ix);
    return NULL;
  }
  const int group = ix->pcs ? GROUP : 1;
  for (int g0 = 0; g0 < n; g0 += group) {
    const int end = n - g0 < group ? n : g0 + group;
    double low = INFINITY, high = -INFINITY;
    for (int p = g0; p < end; p++) {
      low = fmin(low, raw[ix->row_at[p]]);
      high = fmax(high, raw[ix->row_at[p]]);
    }
    for (int p = g0; p < end; p++) {
      ix->key_low[p] = low;
      ix->key_high[p] = high;
    }
  }
  for (int p = 0; p < n; p++) {
    const int row = ix->row_at[p];
    float *block = ix->blocks + (size_t)(p / LANES) * ix->width * LANES + p % LANES;
    for (int c = 0; c < d; c++) block[(size_t)c * LANES] = data[(size_t)row * d + ix->columns[c]];
    if (!ix->pcs) continue;
    float coords[BOUND];
    double coords64[PCS];
    const double error = coordinates(ix, data + (size_t)row * d, coords, coords64);
    if (error > ix->coord_error) ix->coord_error = error;
    float *bound_block = ix->bound_blocks + (size_t)(p / LANES) * BOUND * LANES + p % LANES;
    for (int c = 0; c < BOUND; c++) bound_block[(size_t)c * LANES] = coords[c];
  }
  free(raw);
  return ix;
}

/** Searches every query; 0 or an error message. */
static const char *run_search(search *s, int threads) {
  const index_t *ix = s->ix;
  const int d = ix->d;
  s->visit = malloc(sizeof *s->visit * (s->nq + 1));
  s->query_key = malloc(sizeof *s->query_key * (s->nq + 1));
  const char *error = NULL;
  if (!s->visit || !s->query_key) {
    error = "neighbors.knn: out of memory";
    goto done;
  }
  for (int q = 0; q < s->nq; q++) {
    double key = 0;
    for (int j = 0; j < d; j++) key += (double)s->queries[(size_t)q * d + j] * ix->direction[j];
    s->query_key[q] = key;
  }
  // Queries in coordinate order: consecutive queries measure mostly the same rows.
  if (!sort_by_key(s->visit, s->query_key, s->nq)) {
    error = "neighbors.knn: out of memory";
    goto done;
  }
  s->chunks = (s->nq + CHUNK - 1) / CHUNK;
  if (threads > s->chunks) threads = s->chunks > 0 ? s->chunks : 1;
  if (threads > MAX_THREADS) threads = MAX_THREADS;
  pthread_t ids[MAX_THREADS];
  int started = 0;
  for (; started < threads - 1; started++)
    if (pthread_create(&ids[started], NULL, work, s) != 0) break;
  work(s);
  for (int t = 0; t < started; t++) pthread_join(ids[t], NULL);
  if (s->failed) error = "neighbors.knn: out of memory";
done:
  free(s->visit);
  free(s->query_key);
  return error;
}

static bool typed(napi_env env, napi_value value, napi_typedarray_type want, size_t length, void **data) {
  napi_typedarray_type type;
  size_t got;
  return napi_get_typedarray_info(env, value, &type, &got, data, NULL, NULL) == napi_ok && type == want && got >= length;
}

/** Bytes an index holds (told to V8, so that its garbage collector weighs the handle by them). */
static int64_t index_bytes(const index_t *ix) {
  const int64_t n = ix->n, d = ix->d, blocks = (n + LANES - 1) / LANES;
  return n * d * 4 + blocks * LANES * (ix->width + (ix->pcs ? BOUND : 0)) * 4 + n * 20 + d * (8 + 4 + 8 * (int64_t)ix->pcs);
}

static void finalize_index(napi_env env, void *data, void *hint) {
  (void)hint;
  int64_t adjusted;
  napi_adjust_external_memory(env, -index_bytes(data), &adjusted);
  index_free(data);
}

static napi_value js_prepare(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  int32_t n, d;
  bool manhattan;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 4 || napi_get_value_int32(env, argv[1], &n) != napi_ok ||
      napi_get_value_int32(env, argv[2], &d) != napi_ok || napi_get_value_bool(env, argv[3], &manhattan) != napi_ok || n < 0 || d <= 0 ||
      !typed(env, argv[0], napi_float32_array, (size_t)n * d, &data)) {
    napi_throw_error(env, NULL, "neighbors.prepare: bad arguments");
    return NULL;
  }
  index_t *ix = index_build(data, n, d, manhattan);
  napi_value handle;
  if (!ix || napi_create_external(env, ix, finalize_index, NULL, &handle) != napi_ok) {
    index_free(ix);
    napi_throw_error(env, NULL, "neighbors.prepare: out of memory");
    return NULL;
  }
  int64_t adjusted;
  napi_adjust_external_memory(env, index_bytes(ix), &adjusted);
  return handle;
}

static napi_value js_knn(napi_env env, napi_callback_info info) {
  size_t argc = 9;
  napi_value argv[9];
  search s = {0};
  index_t *ix;
  int32_t threads;
  char kernels[16] = "";
  void *queries, *out_idx, *out_dist;
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 9 &&
            napi_get_value_external(env, argv[0], (void **)&ix) == napi_ok && napi_get_value_int32(env, argv[2], &s.nq) == napi_ok &&
            napi_get_value_int32(env, argv[3], &s.k) == napi_ok && napi_get_value_bool(env, argv[4], &s.exclude_self) == napi_ok &&
            napi_get_value_int32(env, argv[5], &threads) == napi_ok && napi_get_value_string_utf8(env, argv[6], kernels, sizeof kernels, NULL) == napi_ok &&
            s.nq >= 0 && s.k >= 0 && threads >= 1;
  ok = ok && (!s.exclude_self || s.nq == ix->n) && typed(env, argv[1], napi_float32_array, (size_t)s.nq * ix->d, &queries) &&
       typed(env, argv[7], napi_int32_array, (size_t)s.nq * s.k, &out_idx) && typed(env, argv[8], napi_float64_array, (size_t)s.nq * s.k, &out_dist);
  if (!ok) {
    napi_throw_error(env, NULL, "neighbors.knn: bad arguments");
    return NULL;
  }
  // As search.ts's float32Safe: d squared differences of values within ±limit stay below a quarter of float32's
  // maximum, so no float32 distance overflows (the indexed rows were checked before they were indexed).
  const double limit = sqrt(F32_MAX / (16.0 * ix->d));
  const float *qv = queries;
  bool safe = true;
  for (size_t i = 0; i < (size_t)s.nq * ix->d; i++) safe &= qv[i] <= limit && qv[i] >= -limit;
  napi_value result;
  if (!safe) {
    napi_get_boolean(env, false, &result);
    return result;
  }
  s.ix = ix;
  s.queries = queries;
  s.out_idx = out_idx;
  s.out_dist = out_dist;
  const int available = ix->n - (s.exclude_self ? 1 : 0);
  s.k_eff = available < s.k ? available : s.k;
  if (s.k_eff < 0) s.k_eff = 0;
  // The kernels asked for ("auto": the best this CPU has; a named one only where the CPU has it).
  const char *best = best_kernels();
  const bool auto_kernels = strcmp(kernels, "auto") == 0;
  if (!auto_kernels && strcmp(kernels, "portable") != 0 && strcmp(kernels, "avx2") != 0 && strcmp(kernels, "avx512") != 0) {
    napi_throw_error(env, NULL, "neighbors.knn: kernels must be auto, portable, avx2 or avx512");
    return NULL;
  }
  const char *use = auto_kernels ? best : kernels;
  if ((strcmp(use, "avx512") == 0 && strcmp(best, "avx512") != 0) || (strcmp(use, "avx2") == 0 && strcmp(best, "portable") == 0)) {
    napi_throw_error(env, NULL, "neighbors.knn: this CPU lacks the kernels asked for");
    return NULL;
  }
  s.run = ix->manhattan ? run_portable_l1 : run_portable_l2;
  s.exact = exact_portable;
  s.coordinates = coordinates_portable;
#if defined(__x86_64__)
  if (strcmp(use, "portable") != 0) {
    s.run = strcmp(use, "avx512") == 0 ? (ix->manhattan ? run_avx512_l1 : run_avx512_l2) : (ix->manhattan ? run_avx2_l1 : run_avx2_l2);
    s.exact = exact_avx2;
    s.coordinates = coordinates_avx2;
  }
#endif
  const char *error = run_search(&s, threads);
  if (error) {
    napi_throw_error(env, NULL, error);
    return NULL;
  }
  napi_get_boolean(env, true, &result);
  return result;
}

/**
 * search.ts's columnModes with majorityOnly, and its float32Safe, in one pass each: per column the majority value
 * (Boyer–Moore vote, verified by counting) into modes and the values differing from it into non_mode, or NaN and
 * n / 2 where no value fills more than half the column; returns whether every value is small enough for float32
 * distances.
 */
static napi_value js_majority_modes(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  int32_t n, d;
  void *data, *modes, *non_mode;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 5 || napi_get_value_int32(env, argv[1], &n) != napi_ok ||
      napi_get_value_int32(env, argv[2], &d) != napi_ok || n < 0 || d <= 0 || !typed(env, argv[0], napi_float32_array, (size_t)n * d, &data) ||
      !typed(env, argv[3], napi_float64_array, d, &modes) || !typed(env, argv[4], napi_float64_array, d, &non_mode)) {
    napi_throw_error(env, NULL, "neighbors.majorityModes: bad arguments");
    return NULL;
  }
  const float *x = data;
  double *mode = modes, *differ = non_mode;
  float *candidate = malloc(sizeof *candidate * d);
  int32_t *votes = calloc(d, sizeof *votes);
  if (!candidate || !votes) {
    free(candidate);
    free(votes);
    napi_throw_error(env, NULL, "neighbors.majorityModes: out of memory");
    return NULL;
  }
  const double limit = sqrt(F32_MAX / (16.0 * d));
  bool safe = true;
  for (int i = 0; i < n; i++) {
    const float *row = x + (size_t)i * d;
    for (int j = 0; j < d; j++) {
      const float v = row[j];
      safe &= v <= limit && v >= -limit;
      if (votes[j] == 0) {
        candidate[j] = v;
        votes[j] = 1;
      } else {
        votes[j] += v == candidate[j] ? 1 : -1;
      }
    }
  }
  memset(votes, 0, sizeof *votes * d);
  for (int i = 0; i < n; i++)
    for (int j = 0; j < d; j++) votes[j] += x[(size_t)i * d + j] == candidate[j];
  for (int j = 0; j < d; j++) {
    const bool majority = 2 * (int64_t)votes[j] > n;
    mode[j] = majority ? candidate[j] : NAN;
    differ[j] = majority ? n - votes[j] : n / 2.0;
  }
  free(candidate);
  free(votes);
  napi_value result;
  napi_get_boolean(env, safe, &result);
  return result;
}

/**
 * lof.ts's reachabilityDensity and factors, the same float64 operations in the same order: for each of `rows` rows
 * with k neighbours (indices into kDistance and lrd, their distances), its local reachability density into out_lrd,
 * then its LOF, the mean of its neighbours' lrd over its own, into out_factors (lrd may be out_lrd itself: a fit's
 * rows are their own neighbours' rows).
 */
static napi_value js_local_outlier_factors(napi_env env, napi_callback_info info) {
  size_t argc = 8;
  napi_value argv[8];
  int32_t rows, k;
  void *indices, *distances, *k_distance, *lrd, *out_lrd, *out_factors;
  size_t n_k_distance = 0, n_lrd = 0;
  napi_typedarray_type type;
  bool ok = napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok && argc == 8 && napi_get_value_int32(env, argv[2], &rows) == napi_ok &&
            napi_get_value_int32(env, argv[3], &k) == napi_ok && rows >= 0 && k >= 1 &&
            typed(env, argv[0], napi_int32_array, (size_t)rows * k, &indices) && typed(env, argv[1], napi_float64_array, (size_t)rows * k, &distances) &&
            napi_get_typedarray_info(env, argv[4], &type, &n_k_distance, &k_distance, NULL, NULL) == napi_ok && type == napi_float64_array &&
            napi_get_typedarray_info(env, argv[5], &type, &n_lrd, &lrd, NULL, NULL) == napi_ok && type == napi_float64_array && n_lrd == n_k_distance &&
            typed(env, argv[6], napi_float64_array, rows, &out_lrd) && typed(env, argv[7], napi_float64_array, rows, &out_factors);
  const int32_t *neighbor = indices;
  for (size_t o = 0; ok && o < (size_t)rows * k; o++) ok = neighbor[o] >= 0 && (size_t)neighbor[o] < n_k_distance;
  if (!ok) {
    napi_throw_error(env, NULL, "neighbors.localOutlierFactors: bad arguments");
    return NULL;
  }
  const double *distance = distances, *reach_of = k_distance;
  double *density = out_lrd, *factor = out_factors;
  for (size_t r = 0, o = 0; r < (size_t)rows; r++) {
    double sum = 0;
    for (int c = 0; c < k; c++, o++) {
      const double reach = reach_of[neighbor[o]], d = distance[o];
      sum += d > reach ? d : reach;
    }
    density[r] = 1 / (sum / k + 1e-10);
  }
  const double *neighbor_lrd = lrd;
  for (size_t r = 0, o = 0; r < (size_t)rows; r++) {
    const double own = density[r];
    double sum = 0;
    for (int c = 0; c < k; c++, o++) sum += neighbor_lrd[neighbor[o]] / own;
    factor[r] = sum / k;
  }
  return NULL;
}

static napi_value js_all_finite(napi_env env, napi_callback_info info) {
  size_t argc = 1, length;
  napi_value argv[1];
  napi_typedarray_type type;
  void *data;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_typedarray_info(env, argv[0], &type, &length, &data, NULL, NULL) != napi_ok || type != napi_float32_array) {
    napi_throw_error(env, NULL, "neighbors.allFinite: bad arguments");
    return NULL;
  }
  const float *x = data;
  int finite = 1;
  for (size_t i = 0; i < length; i++) finite &= fabsf(x[i]) <= (float)F32_MAX;
  napi_value result;
  napi_get_boolean(env, finite, &result);
  return result;
}

static napi_value js_kernel(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value name;
  napi_create_string_utf8(env, best_kernels(), NAPI_AUTO_LENGTH, &name);
  return name;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"prepare", NULL, js_prepare, NULL, NULL, NULL, napi_default, NULL},
      {"knn", NULL, js_knn, NULL, NULL, NULL, napi_default, NULL},
      {"kernels", NULL, js_kernel, NULL, NULL, NULL, napi_default, NULL},
      {"majorityModes", NULL, js_majority_modes, NULL, NULL, NULL, napi_default, NULL},
      {"localOutlierFactors", NULL, js_local_outlier_factors, NULL, NULL, NULL, napi_default, NULL},
      {"allFinite", NULL, js_all_finite, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
