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

static napi_value threads(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value out;
  napi_create_int32(env, openblas_get_num_threads(), &out);
  return out;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"sgemm", NULL, sgemm, NULL, NULL, NULL, napi_default, NULL},
      {"threads", NULL, threads, NULL, NULL, NULL, napi_default, NULL},
  };
  napi_define_properties(env, exports, 2, props);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
