// Fused kernels for the engine's hot paths on CPU (wasm and cpu tfjs backends), each with its
// backward pass. Why: tfjs runs each of these as 5-15 separate element-wise kernels over large
// tensors (the [batch, heads, T, T] attention scores above all); one pass in C, with the matmuls
// in OpenBLAS, removes that traffic. Numerics follow the plain tfjs ops; tests compare them.
#define _GNU_SOURCE
#include <cblas.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

// ---- Work split over the cores. Each kernel splits its outer loop (elements, rows or columns) into
// contiguous ranges, one per thread, and every output element is computed by the serial loop's own
// code in the same order: results are bit-identical whatever the thread count. Why: between BLAS
// calls these loops ran on one core while the other idled (GELU's, forward and backward, were a
// third of a training cell's time). ADAPTBENCH_NATIVE_THREADS sets the count (1: serial); by default
// it is the number of CPUs this process may run on.
#define MAX_THREADS 16
typedef void (*range_fn)(const void* args, size_t lo, size_t hi);
typedef struct { range_fn fn; const void* args; size_t lo, hi; } range_job;

int native_threads(void) {
  static int count = 0;
  if (count == 0) {
    const char* env = getenv("ADAPTBENCH_NATIVE_THREADS");
    int n = env && *env ? atoi(env) : 0;
    if (n < 1) {
      cpu_set_t set;
      n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 1;
    }
    count = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
  }
  return count;
}

static void* run_job(void* job) {
  const range_job* j = job;
  j->fn(j->args, j->lo, j->hi);
  return NULL;
}

// fn over [0, n) in at most native_threads() ranges of at least `grain` items each (fewer threads for
// small n: starting a thread costs tens of microseconds). A thread that cannot start runs inline.
static void parallel_for(size_t n, size_t grain, range_fn fn, const void* args) {
  size_t t = (size_t)native_threads();
  if (grain < 1) grain = 1;
  if (t > n / grain) t = n / grain;
  if (t <= 1) {
    fn(args, 0, n);
    return;
  }
  pthread_t threads[MAX_THREADS];
  range_job jobs[MAX_THREADS];
  int started[MAX_THREADS];
  for (size_t i = 0; i < t; i++) jobs[i] = (range_job){fn, args, n * i / t, n * (i + 1) / t};
  for (size_t i = 1; i < t; i++) started[i] = pthread_create(&threads[i], NULL, run_job, &jobs[i]) == 0;
  run_job(&jobs[0]);
  for (size_t i = 1; i < t; i++) {
    if (started[i]) pthread_join(threads[i], NULL);
    else run_job(&jobs[i]);
  }
}

// Items per thread at least: enough work to pay for starting the thread.
#define GRAIN_ELEMENTS ((size_t)1 << 14)
static size_t rows_grain(int width) { return width >= (int)GRAIN_ELEMENTS ? 1 : GRAIN_ELEMENTS / (size_t)width; }

typedef struct { float* probs; int T; } softmax_args;

// Causal softmax of rows [lo, hi) of probs viewed as [B*H*T, T] (row r is query r % T).
static void causal_softmax_rows(const void* a, size_t lo, size_t hi) {
  const softmax_args* s = a;
  const int T = s->T;
  for (size_t r = lo; r < hi; r++) {
    const int i = (int)(r % (size_t)T);
    float* row = s->probs + r * (size_t)T;
    float mx = row[0];
    for (int j = 1; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
    float sum = 0.0f;
    for (int j = 0; j <= i; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
    const float inv = 1.0f / sum;
    for (int j = 0; j <= i; j++) row[j] *= inv;
    for (int j = i + 1; j < T; j++) row[j] = 0.0f;
  }
}

// Causal self-attention over fused q,k,v rows, as GPT-2's c_attn produces them.
// qkv: [B*T, 3D] (q | k | v, each D = H*hd), out: [B*T, D] (heads merged), probs: [B, H, T, T]
// (softmax, zero above the diagonal), kept for the backward pass.
void attention_forward(const float* qkv, float* out, float* probs, int B, int T, int H, int hd) {
  const int D = H * hd, ld = 3 * D;
  const float scale = 1.0f / sqrtf((float)hd);
  // Scores of every head (OpenBLAS threads each product), the softmax over all their rows split
  // across threads, then each head's weighted values.
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float* q = qkv + (size_t)b * T * ld + h * hd;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, q, ld, q + D, ld, 0.0f,
                  probs + ((size_t)b * H + h) * T * T, T);
    }
  }
  const softmax_args args = {probs, T};
  parallel_for((size_t)B * H * T, rows_grain(T), causal_softmax_rows, &args);
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float* v = qkv + (size_t)b * T * ld + h * hd + 2 * D;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, probs + ((size_t)b * H + h) * T * T, T,
                  v, ld, 0.0f, out + (size_t)b * T * D + h * hd, D);
    }
  }
}

// dqkv from dout [B*T, D]; scratch: T*T floats.
void attention_backward(const float* dout, const float* qkv, const float* probs, float* dqkv, float* scratch,
                        int B, int T, int H, int hd) {
  const int D = H * hd, ld = 3 * D;
  const float scale = 1.0f / sqrtf((float)hd);
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float* q = qkv + (size_t)b * T * ld + h * hd;
      const float* k = q + D;
      const float* v = q + 2 * D;
      float* dq = dqkv + (size_t)b * T * ld + h * hd;
      float* dk = dq + D;
      float* dv = dq + 2 * D;
      const float* p = probs + ((size_t)b * H + h) * T * T;
      const float* dO = dout + (size_t)b * T * D + h * hd;
      float* dp = scratch;
      // dV = Pᵀ dO; dP = dO Vᵀ
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, 1.0f, p, T, dO, D, 0.0f, dv, ld);
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, 1.0f, dO, D, v, ld, 0.0f, dp, T);
      // dS = P ∘ (dP − rowsum(dP ∘ P)), causal part only
      for (int i = 0; i < T; i++) {
        const float* pr = p + (size_t)i * T;
        float* dr = dp + (size_t)i * T;
        float dot = 0.0f;
        for (int j = 0; j <= i; j++) dot += dr[j] * pr[j];
        for (int j = 0; j <= i; j++) dr[j] = pr[j] * (dr[j] - dot);
        for (int j = i + 1; j < T; j++) dr[j] = 0.0f;
      }
      // dQ = scale · dS K; dK = scale · dSᵀ Q
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, scale, dp, T, k, ld, 0.0f, dq, ld);
      cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, T, hd, T, scale, dp, T, q, ld, 0.0f, dk, ld);
    }
  }
}

// LayerNorm over rows of x [N, C]: y = (x − mean)·rstd·g + b; saves mean and rstd per row.
typedef struct {
  const float *x, *g, *bias, *dy, *mean, *rstd;
  float *y, *mean_out, *rstd_out, *dx, *dg, *db;
  int N, C;
  float eps;
} layernorm_args;

static void layernorm_forward_rows(const void* a, size_t lo, size_t hi) {
  const layernorm_args* l = a;
  const int C = l->C;
  for (size_t n = lo; n < hi; n++) {
    const float* xr = l->x + n * C;
    float* yr = l->y + n * C;
    float m = 0.0f;
    for (int c = 0; c < C; c++) m += xr[c];
    m /= (float)C;
    float var = 0.0f;
    for (int c = 0; c < C; c++) { const float d = xr[c] - m; var += d * d; }
    var /= (float)C;
    const float rs = 1.0f / sqrtf(var + l->eps);
    for (int c = 0; c < C; c++) yr[c] = (xr[c] - m) * rs * l->g[c] + l->bias[c];
    l->mean_out[n] = m;
    l->rstd_out[n] = rs;
  }
}

void layernorm_forward(const float* x, const float* g, const float* bias, float* y, float* mean, float* rstd,
                       int N, int C, float eps) {
  const layernorm_args args = {.x = x, .g = g, .bias = bias, .y = y, .mean_out = mean, .rstd_out = rstd, .N = N, .C = C, .eps = eps};
  parallel_for((size_t)N, rows_grain(C), layernorm_forward_rows, &args);
}

// dg and db of columns [lo, hi): each column summed over the rows in row order, as one thread would.
static void layernorm_param_columns(const void* a, size_t lo, size_t hi) {
  const layernorm_args* l = a;
  const int C = l->C;
  memset(l->dg + lo, 0, sizeof(float) * (hi - lo));
  memset(l->db + lo, 0, sizeof(float) * (hi - lo));
  for (int n = 0; n < l->N; n++) {
    const float* dyr = l->dy + (size_t)n * C;
    const float* xr = l->x + (size_t)n * C;
    const float m = l->mean[n], rs = l->rstd[n];
    for (size_t c = lo; c < hi; c++) {
      l->dg[c] += dyr[c] * (xr[c] - m) * rs;
      l->db[c] += dyr[c];
    }
  }
}

static void layernorm_dx_rows(const void* a, size_t lo, size_t hi) {
  const layernorm_args* l = a;
  const int C = l->C;
  for (size_t n = lo; n < hi; n++) {
    const float* dyr = l->dy + n * C;
    const float* xr = l->x + n * C;
    float* dxr = l->dx + n * C;
    const float m = l->mean[n], rs = l->rstd[n];
    float sumDxhat = 0.0f, sumDxhatXhat = 0.0f;
    for (int c = 0; c < C; c++) {
      const float xhat = (xr[c] - m) * rs;
      const float dxhat = dyr[c] * l->g[c];
      sumDxhat += dxhat;
      sumDxhatXhat += dxhat * xhat;
    }
    sumDxhat /= (float)C;
    sumDxhatXhat /= (float)C;
    for (int c = 0; c < C; c++) {
      const float xhat = (xr[c] - m) * rs;
      dxr[c] = rs * (dyr[c] * l->g[c] - sumDxhat - xhat * sumDxhatXhat);
    }
  }
}

// want_dx: dx; want_params: dg and db summed over rows (overwritten, not added to). Separate
// because tfjs asks for each input's gradient in its own scope, and a frozen norm needs none.
void layernorm_backward(const float* dy, const float* x, const float* g, const float* mean, const float* rstd,
                        float* dx, float* dg, float* db, int N, int C, int want_dx, int want_params) {
  const layernorm_args args = {.x = x, .g = g, .dy = dy, .mean = mean, .rstd = rstd, .dx = dx, .dg = dg, .db = db, .N = N, .C = C};
  if (want_params) parallel_for((size_t)C, rows_grain(N), layernorm_param_columns, &args);
  if (want_dx) parallel_for((size_t)N, rows_grain(C), layernorm_dx_rows, &args);
}

// GPT-2's tanh GELU, 0.5·v·(1 + tanh(u)) with u = c·(v + a·v³), computed as v·σ(2u), the same
// function: 1 + tanh(u) = 2σ(2u). Why: one expf and a division cost about a third of glibc's tanhf,
// and the form has no cancellation (for large negative u, expf overflows to inf and y to -0). The
// derivative: σ(2u) + 2v·σ(2u)·(1 − σ(2u))·u'.
#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

typedef struct { const float *x, *dy; float *y, *dx; } gelu_args;

// ADAPTBENCH_GELU=tanh: the tanhf form, bit for bit as the engine computed GELU before, to reproduce
// checkpoints made then (base-v2).
int gelu_tanh_form(void) {
  static int form = -1;
  if (form < 0) {
    const char* env = getenv("ADAPTBENCH_GELU");
    form = env && strcmp(env, "tanh") == 0;
  }
  return form;
}

static void gelu_forward_range(const void* a, size_t lo, size_t hi) {
  const gelu_args* g = a;
  if (gelu_tanh_form()) {
    for (size_t i = lo; i < hi; i++) {
      const float v = g->x[i];
      g->y[i] = 0.5f * v * (1.0f + tanhf(GELU_C * (v + GELU_A * v * v * v)));
    }
    return;
  }
  for (size_t i = lo; i < hi; i++) {
    const float v = g->x[i];
    g->y[i] = v / (1.0f + expf(-2.0f * GELU_C * (v + GELU_A * v * v * v)));
  }
}

void gelu_forward(const float* x, float* y, size_t n) {
  const gelu_args args = {.x = x, .y = y};
  parallel_for(n, GRAIN_ELEMENTS, gelu_forward_range, &args);
}

static void gelu_backward_range(const void* a, size_t lo, size_t hi) {
  const gelu_args* g = a;
  if (gelu_tanh_form()) {
    for (size_t i = lo; i < hi; i++) {
      const float v = g->x[i];
      const float th = tanhf(GELU_C * (v + GELU_A * v * v * v));
      const float dinner = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
      g->dx[i] = g->dy[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * dinner);
    }
    return;
  }
  for (size_t i = lo; i < hi; i++) {
    const float v = g->x[i];
    const float s = 1.0f / (1.0f + expf(-2.0f * GELU_C * (v + GELU_A * v * v * v)));
    const float dinner = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
    g->dx[i] = g->dy[i] * (s + 2.0f * v * s * (1.0f - s) * dinner);
  }
}

void gelu_backward(const float* dy, const float* x, float* dx, size_t n) {
  const gelu_args args = {.x = x, .dy = dy, .dx = dx};
  parallel_for(n, GRAIN_ELEMENTS, gelu_backward_range, &args);
}

typedef struct { const float *z, *dloss, *lse_in; const int* target; float *loss, *lse, *dz; int V; } xent_args;

// Per-row cross-entropy of logits [N, V] against integer targets: loss[n] = lse − z[target].
// Saves lse per row for the backward pass.
static void xent_forward_rows(const void* a, size_t lo, size_t hi) {
  const xent_args* x = a;
  const int V = x->V;
  for (size_t n = lo; n < hi; n++) {
    const float* zr = x->z + n * V;
    float mx = zr[0];
    for (int j = 1; j < V; j++) mx = zr[j] > mx ? zr[j] : mx;
    float s = 0.0f;
    for (int j = 0; j < V; j++) s += expf(zr[j] - mx);
    x->lse[n] = mx + logf(s);
    x->loss[n] = x->lse[n] - zr[x->target[n]];
  }
}

void xent_forward(const float* z, const int* target, float* loss, float* lse, int N, int V) {
  const xent_args args = {.z = z, .target = target, .loss = loss, .lse = lse, .V = V};
  parallel_for((size_t)N, rows_grain(V), xent_forward_rows, &args);
}

// dz = dloss · (softmax(z) − onehot(target)).
static void xent_backward_rows(const void* a, size_t lo, size_t hi) {
  const xent_args* x = a;
  const int V = x->V;
  for (size_t n = lo; n < hi; n++) {
    const float* zr = x->z + n * V;
    float* dr = x->dz + n * V;
    const float d = x->dloss[n], l = x->lse_in[n];
    for (int j = 0; j < V; j++) dr[j] = d * expf(zr[j] - l);
    dr[x->target[n]] -= d;
  }
}

void xent_backward(const float* dloss, const float* z, const int* target, const float* lse, float* dz, int N, int V) {
  const xent_args args = {.z = z, .dloss = dloss, .lse_in = lse, .target = target, .dz = dz, .V = V};
  parallel_for((size_t)N, rows_grain(V), xent_backward_rows, &args);
}

typedef struct { float *p, *m, *v; const float* g; float lr, b1, b2, c1, c2, eps, decay, gscale; } adamw_args;

static void adamw_range(const void* a, size_t lo, size_t hi) {
  const adamw_args* o = a;
  for (size_t i = lo; i < hi; i++) {
    const float gi = o->g[i] * o->gscale;
    o->m[i] = o->b1 * o->m[i] + (1.0f - o->b1) * gi;
    o->v[i] = o->b2 * o->v[i] + (1.0f - o->b2) * gi * gi;
    const float update = (o->m[i] / o->c1) / (sqrtf(o->v[i] / o->c2) + o->eps);
    o->p[i] -= o->lr * (update + o->decay * o->p[i]);
  }
}

// AdamW, in place on p, m, v: one pass instead of a dozen tfjs ops per parameter.
void adamw_update(float* p, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2, float c1,
                  float c2, float eps, float decay, float gscale) {
  const adamw_args args = {p, m, v, g, lr, b1, b2, c1, c2, eps, decay, gscale};
  parallel_for(n, GRAIN_ELEMENTS, adamw_range, &args);
}
