// glibc malloc's mmap threshold (mallopt(3), M_MMAP_THRESHOLD), set by the loader (src/io/malloc-policy.ts). V8
// compiles optimised code on worker threads whose zones grow in 8-32 KiB segments from malloc; in each thread's
// arena the freed segments stay resident (glibc gives an arena's memory back only from its top), so a compile leaves
// 0.3-3.6 MB behind. Blocks at or above the threshold are mapped on their own and unmapped when freed.
//
// JavaScript API:
//   setMmapThreshold(bytes) -> boolean     true when this C library took the setting (glibc); false elsewhere

#include <node_api.h>
#include <stdbool.h>
#include <stdint.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

static napi_value set_mmap_threshold(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value arg;
  napi_value result;
  int64_t bytes = 0;
  bool taken = false;
  if (napi_get_cb_info(env, info, &argc, &arg, NULL, NULL) != napi_ok || argc != 1 ||
      napi_get_value_int64(env, arg, &bytes) != napi_ok || bytes <= 0 || bytes > (int64_t)32 << 20) {
    napi_throw_range_error(env, NULL, "setMmapThreshold: bytes must be a number in 1..33554432");
    return NULL;
  }
#ifdef __GLIBC__
  taken = mallopt(M_MMAP_THRESHOLD, (int)bytes) == 1;
#endif
  napi_get_boolean(env, taken, &result);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "setMmapThreshold", NAPI_AUTO_LENGTH, set_mmap_threshold, NULL, &fn);
  napi_set_named_property(env, exports, "setMmapThreshold", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
