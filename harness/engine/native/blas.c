// A small N-API addon that exposes OpenBLAS sgemm to the engine.
// Why: tfjs's wasm backend runs transposed and batched matmuls (the backward pass) at ~2 GFLOP/s,
// while OpenBLAS reaches ~185 GFLOP/s on the same cores. The engine registers this as the
// BatchMatMul kernel of the wasm and cpu backends (see ../blas-kernels.ts).
#include <node_api.h>
#include <cblas.h>
#include <stdint.h>

#define CHECK(call)                                                              \
  do {                                                                           \
    if ((call) != napi_ok) {                                                     \
      napi_throw_error(env, NULL, "adaptbench_blas: bad arguments to " #call);   \
      return NULL;                                                               \
    }                                                                            \
  } while (0)

static int float_array(napi_env env, napi_value v, float** data, size_t* length) {
  napi_typedarray_type type;
  void* ptr;
  napi_value ab;
  size_t offset;
  if (napi_get_typedarray_info(env, v, &type, length, &ptr, &ab, &offset) != napi_ok) return 0;
  if (type != napi_float32_array) return 0;
  *data = (float*)ptr;
  return 1;
}

// sgemm(a, aOff, strideA, b, bOff, strideB, c, cOff, strideC, batch, M, N, K, transA, transB)
// Offsets and strides are in elements; a stride of 0 broadcasts that operand over the batch.
// C[i] = op(A[i]) * op(B[i]) with op(A) M x K and op(B) K x N, all row-major.
static napi_value sgemm(napi_env env, napi_callback_info info) {
  size_t argc = 15;
  napi_value argv[15];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  if (argc != 15) {
    napi_throw_error(env, NULL, "adaptbench_blas.sgemm expects 15 arguments");
    return NULL;
  }
  float *a, *b, *c;
  size_t la, lb, lc;
  if (!float_array(env, argv[0], &a, &la) || !float_array(env, argv[3], &b, &lb) ||
      !float_array(env, argv[6], &c, &lc)) {
    napi_throw_type_error(env, NULL, "adaptbench_blas.sgemm: a, b and c must be Float32Arrays");
    return NULL;
  }
  int64_t v[12];
  const int idx[12] = {1, 2, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14};
  for (int i = 0; i < 12; i++) CHECK(napi_get_value_int64(env, argv[idx[i]], &v[i]));
  int64_t aOff = v[0], sA = v[1], bOff = v[2], sB = v[3], cOff = v[4], sC = v[5];
  int64_t batch = v[6], M = v[7], N = v[8], K = v[9];
  int transA = (int)v[10], transB = (int)v[11];
  // Bounds: the last batch's last element must lie inside each array.
  if (batch < 1 || M < 1 || N < 1 || K < 1 ||
      (size_t)(aOff + (batch - 1) * sA + M * K) > la ||
      (size_t)(bOff + (batch - 1) * sB + K * N) > lb ||
      (size_t)(cOff + (batch - 1) * sC + M * N) > lc) {
    napi_throw_range_error(env, NULL, "adaptbench_blas.sgemm: shapes exceed the arrays");
    return NULL;
  }
  const int lda = transA ? (int)M : (int)K;
  const int ldb = transB ? (int)K : (int)N;
  for (int64_t i = 0; i < batch; i++) {
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                (int)M, (int)N, (int)K, 1.0f, a + aOff + i * sA, lda, b + bOff + i * sB, ldb, 0.0f,
                c + cOff + i * sC, (int)N);
  }
  return NULL;
}

// ---- fused kernels (fused.c): each pointer argument is a (typed array, element offset) pair.
void attention_forward(const float*, float*, float*, int, int, int, int);
void attention_backward(const float*, const float*, const float*, float*, float*, int, int, int, int);
void layernorm_forward(const float*, const float*, const float*, float*, float*, float*, int, int, float);
void layernorm_backward(const float*, const float*, const float*, const float*, const float*, float*, float*, float*, int, int, int, int);
void gelu_forward(const float*, float*, size_t);
void gelu_backward(const float*, const float*, float*, size_t);
void xent_forward(const float*, const int*, float*, float*, int, int);
void xent_backward(const float*, const float*, const int*, const float*, float*, int, int);
void adamw_update(float*, float*, float*, const float*, size_t, float, float, float, float, float, float, float, float);
int native_threads(void);
int gelu_tanh_form(void);

// Resolves argv[i] (a Float32Array or Int32Array) plus argv[i+1] (element offset) to a pointer with
// at least `need` elements; throws a RangeError otherwise.
static void* span(napi_env env, napi_value* argv, int i, size_t need) {
  napi_typedarray_type type;
  size_t length, offset;
  void* data;
  napi_value ab;
  int64_t off;
  if (napi_get_typedarray_info(env, argv[i], &type, &length, &data, &ab, &offset) != napi_ok ||
      (type != napi_float32_array && type != napi_int32_array) ||
      napi_get_value_int64(env, argv[i + 1], &off) != napi_ok || off < 0 || (size_t)off + need > length) {
    napi_throw_range_error(env, NULL, "adaptbench_blas: a tensor argument is not a Float32/Int32Array of the expected size");
    return NULL;
  }
  return (char*)data + (size_t)off * 4;
}

static int ints(napi_env env, napi_value* argv, int from, int count, int64_t* out) {
  for (int i = 0; i < count; i++) {
    if (napi_get_value_int64(env, argv[from + i], &out[i]) != napi_ok || out[i] < 0) {
      napi_throw_type_error(env, NULL, "adaptbench_blas: expected non-negative integers");
      return 0;
    }
  }
  return 1;
}

static double num(napi_env env, napi_value v) {
  double d = 0;
  napi_get_value_double(env, v, &d);
  return d;
}

#define ARGS(n)                                              \
  size_t argc = n;                                           \
  napi_value argv[n];                                        \
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL)); \
  if (argc != n) { napi_throw_error(env, NULL, "adaptbench_blas: wrong number of arguments"); return NULL; }
#define SPAN(T, name, i, need) T* name = (T*)span(env, argv, i, (size_t)(need)); if (!name) return NULL;

// attentionForward(qkv,o, out,o, probs,o, B, T, H, hd)
static napi_value attn_fwd(napi_env env, napi_callback_info info) {
  ARGS(10);
  int64_t d[4];
  if (!ints(env, argv, 6, 4, d)) return NULL;
  const int64_t B = d[0], T = d[1], H = d[2], hd = d[3], D = H * hd;
  SPAN(const float, qkv, 0, B * T * 3 * D); SPAN(float, out, 2, B * T * D); SPAN(float, probs, 4, B * H * T * T);
  attention_forward(qkv, out, probs, (int)B, (int)T, (int)H, (int)hd);
  return NULL;
}

// attentionBackward(dout,o, qkv,o, probs,o, dqkv,o, scratch,o, B, T, H, hd)
static napi_value attn_bwd(napi_env env, napi_callback_info info) {
  ARGS(14);
  int64_t d[4];
  if (!ints(env, argv, 10, 4, d)) return NULL;
  const int64_t B = d[0], T = d[1], H = d[2], hd = d[3], D = H * hd;
  SPAN(const float, dout, 0, B * T * D); SPAN(const float, qkv, 2, B * T * 3 * D); SPAN(const float, probs, 4, B * H * T * T);
  SPAN(float, dqkv, 6, B * T * 3 * D); SPAN(float, scratch, 8, T * T);
  attention_backward(dout, qkv, probs, dqkv, scratch, (int)B, (int)T, (int)H, (int)hd);
  return NULL;
}

// layerNormForward(x,o, g,o, b,o, y,o, mean,o, rstd,o, N, C, eps)
static napi_value ln_fwd(napi_env env, napi_callback_info info) {
  ARGS(15);
  int64_t d[2];
  if (!ints(env, argv, 12, 2, d)) return NULL;
  const int64_t N = d[0], C = d[1];
  SPAN(const float, x, 0, N * C); SPAN(const float, g, 2, C); SPAN(const float, b, 4, C); SPAN(float, y, 6, N * C);
  SPAN(float, mean, 8, N); SPAN(float, rstd, 10, N);
  layernorm_forward(x, g, b, y, mean, rstd, (int)N, (int)C, (float)num(env, argv[14]));
  return NULL;
}

// layerNormBackward(dy,o, x,o, g,o, mean,o, rstd,o, dx,o, dg,o, db,o, N, C, wantDx, wantParams)
static napi_value ln_bwd(napi_env env, napi_callback_info info) {
  ARGS(20);
  int64_t d[4];
  if (!ints(env, argv, 16, 4, d)) return NULL;
  const int64_t N = d[0], C = d[1];
  SPAN(const float, dy, 0, N * C); SPAN(const float, x, 2, N * C); SPAN(const float, g, 4, C);
  SPAN(const float, mean, 6, N); SPAN(const float, rstd, 8, N); SPAN(float, dx, 10, d[2] ? N * C : 0);
  SPAN(float, dg, 12, d[3] ? C : 0); SPAN(float, db, 14, d[3] ? C : 0);
  layernorm_backward(dy, x, g, mean, rstd, dx, dg, db, (int)N, (int)C, (int)d[2], (int)d[3]);
  return NULL;
}

// geluForward(x,o, y,o, n) / geluBackward(dy,o, x,o, dx,o, n)
static napi_value gelu_fwd(napi_env env, napi_callback_info info) {
  ARGS(5);
  int64_t n;
  if (!ints(env, argv, 4, 1, &n)) return NULL;
  SPAN(const float, x, 0, n); SPAN(float, y, 2, n);
  gelu_forward(x, y, (size_t)n);
  return NULL;
}
static napi_value gelu_bwd(napi_env env, napi_callback_info info) {
  ARGS(7);
  int64_t n;
  if (!ints(env, argv, 6, 1, &n)) return NULL;
  SPAN(const float, dy, 0, n); SPAN(const float, x, 2, n); SPAN(float, dx, 4, n);
  gelu_backward(dy, x, dx, (size_t)n);
  return NULL;
}

// xentForward(z,o, target,o, loss,o, lse,o, N, V) / xentBackward(dloss,o, z,o, target,o, lse,o, dz,o, N, V)
static napi_value xent_fwd(napi_env env, napi_callback_info info) {
  ARGS(10);
  int64_t d[2];
  if (!ints(env, argv, 8, 2, d)) return NULL;
  const int64_t N = d[0], V = d[1];
  SPAN(const float, z, 0, N * V); SPAN(const int, target, 2, N); SPAN(float, loss, 4, N); SPAN(float, lse, 6, N);
  for (int64_t n = 0; n < N; n++) if (target[n] < 0 || target[n] >= V) { napi_throw_range_error(env, NULL, "adaptbench_blas: target id outside the vocabulary"); return NULL; }
  xent_forward(z, target, loss, lse, (int)N, (int)V);
  return NULL;
}
static napi_value xent_bwd(napi_env env, napi_callback_info info) {
  ARGS(12);
  int64_t d[2];
  if (!ints(env, argv, 10, 2, d)) return NULL;
  const int64_t N = d[0], V = d[1];
  SPAN(const float, dloss, 0, N); SPAN(const float, z, 2, N * V); SPAN(const int, target, 4, N);
  SPAN(const float, lse, 6, N); SPAN(float, dz, 8, N * V);
  for (int64_t n = 0; n < N; n++) if (target[n] < 0 || target[n] >= V) { napi_throw_range_error(env, NULL, "adaptbench_blas: target id outside the vocabulary"); return NULL; }
  xent_backward(dloss, z, target, lse, dz, (int)N, (int)V);
  return NULL;
}

// adamw(p,o, m,o, v,o, g,o, n, lr, b1, b2, c1, c2, eps, decay, gscale): updates p, m, v in place.
static napi_value adamw(napi_env env, napi_callback_info info) {
  ARGS(17);
  int64_t n;
  if (!ints(env, argv, 8, 1, &n)) return NULL;
  SPAN(float, p, 0, n); SPAN(float, m, 2, n); SPAN(float, v, 4, n); SPAN(const float, g, 6, n);
  adamw_update(p, m, v, g, (size_t)n, (float)num(env, argv[9]), (float)num(env, argv[10]), (float)num(env, argv[11]),
               (float)num(env, argv[12]), (float)num(env, argv[13]), (float)num(env, argv[14]), (float)num(env, argv[15]),
               (float)num(env, argv[16]));
  return NULL;
}

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

// Threads the fused kernels split their loops over (ADAPTBENCH_NATIVE_THREADS, else the CPUs this process may use).
static napi_value fused_threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, native_threads(), &out);
  return out;
}

// The GELU form the kernels compute: "tanh" under ADAPTBENCH_GELU=tanh, else "sigmoid".
static napi_value gelu_form(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_string_utf8(env, gelu_tanh_form() ? "tanh" : "sigmoid", NAPI_AUTO_LENGTH, &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_default, NULL},
      {"attentionForward", NULL, attn_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"attentionBackward", NULL, attn_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormForward", NULL, ln_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"layerNormBackward", NULL, ln_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"geluForward", NULL, gelu_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"geluBackward", NULL, gelu_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"xentForward", NULL, xent_fwd, NULL, NULL, NULL, napi_default, NULL},
      {"xentBackward", NULL, xent_bwd, NULL, NULL, NULL, napi_default, NULL},
      {"adamw", NULL, adamw, NULL, NULL, NULL, napi_default, NULL},
      {"fusedThreads", NULL, fused_threads, NULL, NULL, NULL, napi_default, NULL},
      {"geluForm", NULL, gelu_form, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
