// Fused kernels for the engine's hot paths on CPU (wasm and cpu tfjs backends), each with its
// backward pass. Why: tfjs runs each of these as 5-15 separate element-wise kernels over large
// tensors (the [batch, heads, T, T] attention scores above all); one pass in C, with the matmuls
// in OpenBLAS, removes that traffic. Numerics follow the plain tfjs ops; tests compare them.
#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <string.h>

// Causal self-attention over fused q,k,v rows, as GPT-2's c_attn produces them.
// qkv: [B*T, 3D] (q | k | v, each D = H*hd), out: [B*T, D] (heads merged), probs: [B, H, T, T]
// (softmax, zero above the diagonal), kept for the backward pass.
void attention_forward(const float* qkv, float* out, float* probs, int B, int T, int H, int hd) {
  const int D = H * hd, ld = 3 * D;
  const float scale = 1.0f / sqrtf((float)hd);
  for (int b = 0; b < B; b++) {
    for (int h = 0; h < H; h++) {
      const float* q = qkv + (size_t)b * T * ld + h * hd;
      const float* k = q + D;
      const float* v = q + 2 * D;
      float* p = probs + ((size_t)b * H + h) * T * T;
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, T, T, hd, scale, q, ld, k, ld, 0.0f, p, T);
      for (int i = 0; i < T; i++) {
        float* row = p + (size_t)i * T;
        float mx = row[0];
        for (int j = 1; j <= i; j++) mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
        for (int j = 0; j <= i; j++) { row[j] = expf(row[j] - mx); sum += row[j]; }
        const float inv = 1.0f / sum;
        for (int j = 0; j <= i; j++) row[j] *= inv;
        for (int j = i + 1; j < T; j++) row[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, T, hd, T, 1.0f, p, T, v, ld, 0.0f,
                  out + (size_t)b * T * D + h * hd, D);
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
void layernorm_forward(const float* x, const float* g, const float* bias, float* y, float* mean, float* rstd,
                       int N, int C, float eps) {
  for (int n = 0; n < N; n++) {
    const float* xr = x + (size_t)n * C;
    float* yr = y + (size_t)n * C;
    float m = 0.0f;
    for (int c = 0; c < C; c++) m += xr[c];
    m /= (float)C;
    float var = 0.0f;
    for (int c = 0; c < C; c++) { const float d = xr[c] - m; var += d * d; }
    var /= (float)C;
    const float rs = 1.0f / sqrtf(var + eps);
    for (int c = 0; c < C; c++) yr[c] = (xr[c] - m) * rs * g[c] + bias[c];
    mean[n] = m;
    rstd[n] = rs;
  }
}

// want_dx: dx; want_params: dg and db summed over rows (overwritten, not added to). Separate
// because tfjs asks for each input's gradient in its own scope, and a frozen norm needs none.
void layernorm_backward(const float* dy, const float* x, const float* g, const float* mean, const float* rstd,
                        float* dx, float* dg, float* db, int N, int C, int want_dx, int want_params) {
  if (want_params) {
    memset(dg, 0, sizeof(float) * C);
    memset(db, 0, sizeof(float) * C);
  }
  for (int n = 0; n < N; n++) {
    const float* dyr = dy + (size_t)n * C;
    const float* xr = x + (size_t)n * C;
    float* dxr = dx + (size_t)n * C;
    const float m = mean[n], rs = rstd[n];
    if (want_params) {
      for (int c = 0; c < C; c++) {
        dg[c] += dyr[c] * (xr[c] - m) * rs;
        db[c] += dyr[c];
      }
    }
    if (!want_dx) continue;
    float sumDxhat = 0.0f, sumDxhatXhat = 0.0f;
    for (int c = 0; c < C; c++) {
      const float xhat = (xr[c] - m) * rs;
      const float dxhat = dyr[c] * g[c];
      sumDxhat += dxhat;
      sumDxhatXhat += dxhat * xhat;
    }
    sumDxhat /= (float)C;
    sumDxhatXhat /= (float)C;
    for (int c = 0; c < C; c++) {
      const float xhat = (xr[c] - m) * rs;
      dxr[c] = rs * (dyr[c] * g[c] - sumDxhat - xhat * sumDxhatXhat);
    }
  }
}

#define GELU_C 0.7978845608028654f
#define GELU_A 0.044715f

void gelu_forward(const float* x, float* y, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    y[i] = 0.5f * v * (1.0f + tanhf(GELU_C * (v + GELU_A * v * v * v)));
  }
}

void gelu_backward(const float* dy, const float* x, float* dx, size_t n) {
  for (size_t i = 0; i < n; i++) {
    const float v = x[i];
    const float th = tanhf(GELU_C * (v + GELU_A * v * v * v));
    const float dinner = GELU_C * (1.0f + 3.0f * GELU_A * v * v);
    dx[i] = dy[i] * (0.5f * (1.0f + th) + 0.5f * v * (1.0f - th * th) * dinner);
  }
}

// Per-row cross-entropy of logits [N, V] against integer targets: loss[n] = lse − z[target].
// Saves lse per row for the backward pass.
void xent_forward(const float* z, const int* target, float* loss, float* lse, int N, int V) {
  for (int n = 0; n < N; n++) {
    const float* zr = z + (size_t)n * V;
    float mx = zr[0];
    for (int j = 1; j < V; j++) mx = zr[j] > mx ? zr[j] : mx;
    float s = 0.0f;
    for (int j = 0; j < V; j++) s += expf(zr[j] - mx);
    lse[n] = mx + logf(s);
    loss[n] = lse[n] - zr[target[n]];
  }
}

// dz = dloss · (softmax(z) − onehot(target)).
void xent_backward(const float* dloss, const float* z, const int* target, const float* lse, float* dz, int N, int V) {
  for (int n = 0; n < N; n++) {
    const float* zr = z + (size_t)n * V;
    float* dr = dz + (size_t)n * V;
    const float d = dloss[n], l = lse[n];
    for (int j = 0; j < V; j++) dr[j] = d * expf(zr[j] - l);
    dr[target[n]] -= d;
  }
}

// AdamW, in place on p, m, v: one pass instead of a dozen tfjs ops per parameter.
void adamw_update(float* p, float* m, float* v, const float* g, size_t n, float lr, float b1, float b2, float c1,
                  float c2, float eps, float decay, float gscale) {
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i] * gscale;
    m[i] = b1 * m[i] + (1.0f - b1) * gi;
    v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
    const float update = (m[i] / c1) / (sqrtf(v[i] / c2) + eps);
    p[i] -= lr * (update + decay * p[i]);
  }
}
