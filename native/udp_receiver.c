// Batched UDP receiver for `flowsentry collect` (Linux): a thread of its own receives datagrams with recvmmsg(2)
// (up to 64 per system call) and copies each into the collector's single-producer / single-consumer ring in a
// SharedArrayBuffer, in exactly the entry layout of src/flows/collector-pipeline.ts (which documents it). Node 20's
// dgram pays a JavaScript callback, a Buffer and an rinfo object per datagram (1.9-3.2 us of CPU here); this path
// pays one system call per batch and a memcpy per datagram, and no JavaScript at all. The decoding worker is unchanged;
// when it sleeps, it is woken through a thread-safe function that runs Atomics.notify on the main thread.
//
// JavaScript API (see src/flows/collector-native.ts):
//   bind(address, port, ipv6, receiveBuffer) -> { fd, port, granted }     throws Error with .code (e.g. EADDRINUSE)
//   start(fd, ctrl: Int32Array, data: Uint8Array, writeOffset, wake: () => void) -> receiver
//     (views over the ring's SharedArrayBuffers: Node 20's Node-API reads typed arrays over shared memory, not the
//     SharedArrayBuffers themselves)
//   stop(receiver) -> { writeOffset, datagrams, bytes, ringDropped }      joins the thread and closes the socket
//   close(fd)                                                              a bound socket never started
// While a receiver runs, the datagrams dropped because the ring was full are also in ctrl[7] (collector-ring.ts's
// RING_DROPPED: the low 32 bits of the count, stored after each batch that dropped any), so the consumer can report
// them live.

#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <node_api.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

// Ring control words (Int32Array indices) and entry layout, as in collector-pipeline.ts.
enum { CTRL_USED = 2, CTRL_SEQ = 3, CTRL_WAITING = 5, CTRL_RING_DROPPED = 7 };
enum { ENTRY_HEADER = 24, MAX_EXPORTER = 255 };
static const uint32_t WRAP = 0xffffffffu;

enum { BATCH = 64, MAX_DATAGRAM = 65536 };

typedef struct {
  int fd;
  int stop_pipe[2];
  pthread_t thread;
  int32_t *ctrl;
  uint8_t *data;
  uint32_t size;
  uint32_t write_offset;
  napi_ref ctrl_ref, data_ref;
  napi_threadsafe_function wake;
  int wake_pending; // atomic: a wake call is queued and has not run yet
  uint64_t datagrams, bytes, ring_dropped;
  struct mmsghdr msgs[BATCH];
  struct iovec iov[BATCH];
  struct sockaddr_storage from[BATCH];
  uint8_t *buffers; // BATCH x MAX_DATAGRAM
  // The last sender's address and its text: exporters are few, and inet_ntop (sprintf) cost more than the rest of a
  // datagram's handling.
  struct sockaddr_storage last_from;
  socklen_t last_from_length;
  char last_text[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t last_text_length;
  bool cleanup_hook; // registered: ends the thread if the environment ends before stop()
} receiver;

static void put_u32(uint8_t *p, uint32_t v) {
  p[0] = v >> 24;
  p[1] = v >> 16;
  p[2] = v >> 8;
  p[3] = v;
}

static void put_f64(uint8_t *p, double v) {
  uint64_t bits;
  memcpy(&bits, &v, 8);
  put_u32(p, (uint32_t)(bits >> 32));
  put_u32(p + 4, (uint32_t)bits);
}

/** The sender's address as Node's rinfo.address spells it (link-local IPv6 with %interface). */
static size_t address_text(const struct sockaddr_storage *from, char *text) {
  text[0] = 0;
  if (from->ss_family == AF_INET) {
    inet_ntop(AF_INET, &((const struct sockaddr_in *)from)->sin_addr, text, INET6_ADDRSTRLEN);
  } else if (from->ss_family == AF_INET6) {
    const struct sockaddr_in6 *a6 = (const struct sockaddr_in6 *)from;
    inet_ntop(AF_INET6, &a6->sin6_addr, text, INET6_ADDRSTRLEN);
    if (IN6_IS_ADDR_LINKLOCAL(&a6->sin6_addr) && a6->sin6_scope_id > 0) {
      size_t n = strlen(text);
      char name[IF_NAMESIZE];
      if (if_indextoname(a6->sin6_scope_id, name)) {
        text[n] = '%';
        strcpy(text + n + 1, name);
      }
    }
  }
  size_t n = strlen(text);
  return n > MAX_EXPORTER ? MAX_EXPORTER : n;
}

/** Copies one received batch into the ring; `used` is read once and raised once for the whole batch. */
static void push_batch(receiver *r, int count) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  const double now_ms = (double)((int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000);
  const uint32_t size = r->size;
  const uint32_t used = (uint32_t)__atomic_load_n(&r->ctrl[CTRL_USED], __ATOMIC_SEQ_CST);
  uint32_t added = 0;
  const uint64_t dropped_before = r->ring_dropped;
  uint32_t w = r->write_offset;
  for (int i = 0; i < count; i++) {
    const uint32_t length = r->msgs[i].msg_len;
    const socklen_t from_length = r->msgs[i].msg_hdr.msg_namelen;
    if (from_length != r->last_from_length || memcmp(&r->from[i], &r->last_from, from_length) != 0) {
      memcpy(&r->last_from, &r->from[i], from_length);
      r->last_from_length = from_length;
      r->last_text_length = address_text(&r->from[i], r->last_text);
    }
    const char *exporter = r->last_text;
    const size_t exporter_length = r->last_text_length;
    r->datagrams++;
    r->bytes += length;
    const uint64_t need = ((uint64_t)ENTRY_HEADER + length + exporter_length + 7) & ~(uint64_t)7;
    const uint32_t waste = size - w < need ? size - w : 0;
    if ((uint64_t)used + added + waste + need > size) {
      r->ring_dropped++;
      continue;
    }
    if (waste > 0) {
      put_u32(r->data + w, WRAP);
      w = 0;
    }
    uint8_t *entry = r->data + w;
    put_u32(entry, (uint32_t)need);
    put_u32(entry + 4, length);
    put_f64(entry + 8, now_ms);
    entry[16] = 0;
    entry[17] = (uint8_t)exporter_length;
    memcpy(entry + ENTRY_HEADER, r->iov[i].iov_base, length);
    memcpy(entry + ENTRY_HEADER + length, exporter, exporter_length);
    w += (uint32_t)need;
    if (w == size) w = 0;
    added += waste + (uint32_t)need;
  }
  r->write_offset = w;
  if (r->ring_dropped != dropped_before) __atomic_store_n(&r->ctrl[CTRL_RING_DROPPED], (int32_t)(uint32_t)r->ring_dropped, __ATOMIC_RELEASE);
  if (added == 0) return;
  __atomic_fetch_add(&r->ctrl[CTRL_USED], (int32_t)added, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&r->ctrl[CTRL_WAITING], __ATOMIC_SEQ_CST) == 1) {
    // As push() does: a consumer between its last look at `used` and its wait on SEQ then returns at once.
    __atomic_fetch_add(&r->ctrl[CTRL_SEQ], 1, __ATOMIC_SEQ_CST);
    if (__atomic_exchange_n(&r->wake_pending, 1, __ATOMIC_SEQ_CST) == 0) {
      napi_call_threadsafe_function(r->wake, NULL, napi_tsfn_nonblocking);
    }
  }
}

static void *receive_loop(void *arg) {
  receiver *r = arg;
  pthread_setname_np(pthread_self(), "udp-recvmmsg"); // as top, perf and /proc/PID/task/TID/comm show it
  for (;;) {
    for (int i = 0; i < BATCH; i++) r->msgs[i].msg_hdr.msg_namelen = sizeof r->from[i];
    const int count = recvmmsg(r->fd, r->msgs, BATCH, MSG_DONTWAIT, NULL);
    if (count > 0) {
      push_batch(r, count);
      continue;
    }
    if (count < 0 && errno == EINTR) continue;
    // Nothing queued (or a transient error such as ENOMEM, which dgram ignores too): sleep until a datagram or stop.
    struct pollfd fds[2] = {{.fd = r->fd, .events = POLLIN}, {.fd = r->stop_pipe[0], .events = POLLIN}};
    if (poll(fds, 2, -1) < 0) {
      if (errno != EINTR) usleep(1000); // ENOMEM: retry; only stop() ends the thread
      continue;
    }
    if (fds[1].revents != 0) break;
  }
  return NULL;
}

static void call_wake(napi_env env, napi_value js_wake, void *context, void *data) {
  (void)data;
  receiver *r = context;
  __atomic_store_n(&r->wake_pending, 0, __ATOMIC_SEQ_CST);
  if (env == NULL || js_wake == NULL) return;
  napi_value undefined;
  napi_get_undefined(env, &undefined);
  napi_call_function(env, undefined, js_wake, 0, NULL, NULL);
}

/** errno's name (EADDRINUSE), as Node's error codes spell it. */
static const char *errno_name(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  return strerrorname_np(err);
#else
  switch (err) {
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EACCES: return "EACCES";
    case EINVAL: return "EINVAL";
    default: return NULL;
  }
#endif
}

static napi_value throw_errno(napi_env env, const char *syscall, int err, const char *address, uint32_t port) {
  const char *code = errno_name(err);
  char message[256];
  if (address) snprintf(message, sizeof message, "%s %s %s:%u", syscall, code ? code : "EUNKNOWN", address, port);
  else snprintf(message, sizeof message, "%s %s", syscall, code ? code : "EUNKNOWN");
  napi_throw_error(env, code, message);
  return NULL;
}

#define CHECK(call)                                                                                                      \
  do {                                                                                                                 \
    if ((call) != napi_ok) {                                                                                           \
      napi_throw_error(env, NULL, "udp_receiver: " #call " failed");                                                \
      return NULL;                                                                                                     \
    }                                                                                                                  \
  } while (0)

static napi_value set_number(napi_env env, napi_value object, const char *name, double value) {
  napi_value v;
  if (napi_create_double(env, value, &v) != napi_ok || napi_set_named_property(env, object, name, v) != napi_ok) return NULL;
  return object;
}

static napi_value js_bind(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char address[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
  size_t address_length;
  uint32_t port, receive_buffer;
  bool ipv6;
  CHECK(napi_get_value_string_utf8(env, argv[0], address, sizeof address, &address_length));
  CHECK(napi_get_value_uint32(env, argv[1], &port));
  CHECK(napi_get_value_bool(env, argv[2], &ipv6));
  CHECK(napi_get_value_uint32(env, argv[3], &receive_buffer));
  struct sockaddr_storage at;
  memset(&at, 0, sizeof at);
  socklen_t at_length;
  if (ipv6) {
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&at;
    a6->sin6_family = AF_INET6;
    a6->sin6_port = htons((uint16_t)port);
    char *scope = strchr(address, '%');
    if (scope) {
      *scope = 0;
      a6->sin6_scope_id = if_nametoindex(scope + 1);
    }
    if (inet_pton(AF_INET6, address, &a6->sin6_addr) != 1) return throw_errno(env, "bind", EINVAL, address, port);
    at_length = sizeof *a6;
  } else {
    struct sockaddr_in *a4 = (struct sockaddr_in *)&at;
    a4->sin_family = AF_INET;
    a4->sin_port = htons((uint16_t)port);
    if (inet_pton(AF_INET, address, &a4->sin_addr) != 1) return throw_errno(env, "bind", EINVAL, address, port);
    at_length = sizeof *a4;
  }
  const int fd = socket(at.ss_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return throw_errno(env, "socket", errno, NULL, 0);
  if (bind(fd, (struct sockaddr *)&at, at_length) != 0) {
    const int err = errno;
    close(fd);
    return throw_errno(env, "bind", err, address, port);
  }
  // As dgram's recvBufferSize: SO_RCVBUF after binding; Linux caps it at net.core.rmem_max and reports it doubled.
  int requested = (int)receive_buffer, granted = 0;
  socklen_t granted_length = sizeof granted;
  if (receive_buffer > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &requested, sizeof requested) != 0) {
    const int err = errno;
    close(fd);
    return throw_errno(env, "setsockopt", err, NULL, 0);
  }
  getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &granted_length);
  struct sockaddr_storage bound;
  socklen_t bound_length = sizeof bound;
  getsockname(fd, (struct sockaddr *)&bound, &bound_length);
  const uint16_t bound_port = ntohs(bound.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&bound)->sin6_port : ((struct sockaddr_in *)&bound)->sin_port);
  napi_value result;
  CHECK(napi_create_object(env, &result));
  if (!set_number(env, result, "fd", fd) || !set_number(env, result, "port", bound_port) || !set_number(env, result, "granted", granted)) {
    close(fd);
    return NULL;
  }
  return result;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  int32_t fd;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_int32(env, argv[0], &fd));
  close(fd);
  return NULL;
}

/** Ends the thread (if still running) and closes the socket; idempotent. Touches no JavaScript state. */
static void halt(receiver *r) {
  if (r->fd < 0) return;
  const char stop = 1;
  while (write(r->stop_pipe[1], &stop, 1) < 0 && errno == EINTR) {
  }
  pthread_join(r->thread, NULL);
  close(r->fd);
  close(r->stop_pipe[0]);
  close(r->stop_pipe[1]);
  r->fd = -1;
}

static void halt_hook(void *arg) {
  receiver *r = arg;
  r->cleanup_hook = false;
  halt(r);
}

/** The handle was collected without stop(): stop the thread before its memory goes. */
static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  receiver *r = data;
  if (r->cleanup_hook) napi_remove_env_cleanup_hook(env, halt_hook, r);
  halt(r);
  free(r->buffers);
  free(r);
}

static napi_value js_start(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  receiver *r = calloc(1, sizeof *r);
  if (!r) {
    napi_throw_error(env, NULL, "udp_receiver: out of memory");
    return NULL;
  }
  r->buffers = malloc((size_t)BATCH * MAX_DATAGRAM);
  void *ctrl, *data;
  size_t ctrl_length, data_bytes;
  napi_typedarray_type ctrl_type, data_type;
  uint32_t write_offset;
  if (!r->buffers || napi_get_value_int32(env, argv[0], &r->fd) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &ctrl_type, &ctrl_length, &ctrl, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &data_type, &data_bytes, &data, NULL, NULL) != napi_ok ||
      napi_get_value_uint32(env, argv[3], &write_offset) != napi_ok || ctrl_type != napi_int32_array || ctrl_length < 8 ||
      data_type != napi_uint8_array || data_bytes > UINT32_MAX ||
      write_offset >= data_bytes || pipe2(r->stop_pipe, O_CLOEXEC) != 0) {
    free(r->buffers);
    free(r);
    napi_throw_error(env, NULL, "udp_receiver: bad arguments to start");
    return NULL;
  }
  r->ctrl = ctrl;
  r->data = data;
  r->size = (uint32_t)data_bytes;
  r->write_offset = write_offset;
  for (int i = 0; i < BATCH; i++) {
    r->iov[i].iov_base = r->buffers + (size_t)i * MAX_DATAGRAM;
    r->iov[i].iov_len = MAX_DATAGRAM;
    r->msgs[i].msg_hdr.msg_iov = &r->iov[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->from[i];
  }
  // The ring's memory stays alive while the thread writes to it.
  napi_value name;
  CHECK(napi_create_reference(env, argv[1], 1, &r->ctrl_ref));
  CHECK(napi_create_reference(env, argv[2], 1, &r->data_ref));
  CHECK(napi_create_string_utf8(env, "flowsentry udp receiver wake", NAPI_AUTO_LENGTH, &name));
  CHECK(napi_create_threadsafe_function(env, argv[4], NULL, name, 0, 1, NULL, NULL, r, call_wake, &r->wake));
  if (pthread_create(&r->thread, NULL, receive_loop, r) != 0) {
    napi_release_threadsafe_function(r->wake, napi_tsfn_abort);
    napi_throw_error(env, NULL, "udp_receiver: cannot start the receiving thread");
    return NULL;
  }
  // The ring's memory may go when the environment ends: the thread must end first.
  CHECK(napi_add_env_cleanup_hook(env, halt_hook, r));
  r->cleanup_hook = true;
  napi_value handle;
  CHECK(napi_create_external(env, r, finalize, NULL, &handle));
  return handle;
}

static napi_value js_stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  receiver *r;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  CHECK(napi_get_value_external(env, argv[0], (void **)&r));
  if (r->fd < 0) {
    napi_throw_error(env, NULL, "udp_receiver: already stopped");
    return NULL;
  }
  if (r->cleanup_hook) napi_remove_env_cleanup_hook(env, halt_hook, r);
  r->cleanup_hook = false;
  halt(r);
  napi_release_threadsafe_function(r->wake, napi_tsfn_release);
  napi_delete_reference(env, r->ctrl_ref);
  napi_delete_reference(env, r->data_ref);
  napi_value result;
  CHECK(napi_create_object(env, &result));
  if (!set_number(env, result, "writeOffset", r->write_offset) || !set_number(env, result, "datagrams", (double)r->datagrams) ||
      !set_number(env, result, "bytes", (double)r->bytes) || !set_number(env, result, "ringDropped", (double)r->ring_dropped)) {
    return NULL;
  }
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_property_descriptor methods[] = {
      {"bind", NULL, js_bind, NULL, NULL, NULL, napi_default, NULL},
      {"start", NULL, js_start, NULL, NULL, NULL, napi_default, NULL},
      {"stop", NULL, js_stop, NULL, NULL, NULL, napi_default, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_default, NULL},
  };
  if (napi_define_properties(env, exports, sizeof methods / sizeof methods[0], methods) != napi_ok) return NULL;
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
