{
  "targets": [
    {
      "target_name": "adaptbench_blas",
      "sources": ["blas.c", "fused.c"],
      "cflags": ["-O3", "-std=c11"],
      "libraries": ["-lopenblas", "-lpthread"],
      "include_dirs": ["/usr/include/x86_64-linux-gnu/openblas-pthread", "/usr/include/openblas"]
    }
  ]
}
