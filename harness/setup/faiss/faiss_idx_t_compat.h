// adaptbench: force-included into faiss-node's sources when building against Debian's faiss 1.7.3,
// which declares faiss::Index::idx_t but not the namespace-level faiss::idx_t (added in faiss 1.7.4)
// that faiss-node 0.5.1 uses.
#pragma once
#include <faiss/Index.h>

#if FAISS_VERSION_MAJOR < 1 || (FAISS_VERSION_MAJOR == 1 && (FAISS_VERSION_MINOR < 7 || \
    (FAISS_VERSION_MINOR == 7 && FAISS_VERSION_PATCH < 4)))
namespace faiss {
using idx_t = Index::idx_t;
}
#endif
