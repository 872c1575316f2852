#include "tests/bench/h2_unary.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <nghttp2/nghttp2.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>

namespace steward::bench {
namespace {

// gRPC's framing of one message: not compressed, 4-byte big-endian length.
std::string Frame(const std::string& message) {
  std::string out(5, '\0');
  const uint32_t n = htonl(static_cast<uint32_t>(message.size()));
  std::memcpy(&out[1], &n, sizeof n);
  return out + message;
}

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

timespec ToTimespec(Clock::time_point t) {  // steady_clock is CLOCK_MONOTONIC
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
  return {static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
}

// A connected, non-blocking TCP socket to host:port, or -1.
int Connect(const std::string& addr, std::string* error) {
  const size_t colon = addr.rfind(':');
  if (colon == std::string::npos) {
    *error = "address must be host:port: " + addr;
    return -1;
  }
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (int rc = getaddrinfo(addr.substr(0, colon).c_str(), addr.substr(colon + 1).c_str(), &hints, &found); rc != 0) {
    *error = std::string("cannot resolve ") + addr + ": " + gai_strerror(rc);
    return -1;
  }
  int fd = -1;
  for (addrinfo* a = found; a != nullptr && fd < 0; a = a->ai_next) {
    fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
    if (fd >= 0 && ::connect(fd, a->ai_addr, a->ai_addrlen) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  freeaddrinfo(found);
  if (fd < 0) {
    *error = "cannot connect to " + addr + ": " + std::strerror(errno);
    return -1;
  }
  int one = 1;
  ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
  return fd;
}

}  // namespace

struct H2Unary::Run {
  struct Call {
    Clock::time_point due;
    double lag = 0, lat = -1;
    const std::string* body = nullptr;
    size_t body_sent = 0;
    int conn = 0;
    int grpc_status = -1;
    std::string grpc_message;
  };
  struct Conn {
    int fd = -1;
    nghttp2_session* session = nullptr;
    std::string out;  // produced by nghttp2, not yet taken by the socket
    size_t out_off = 0;
    bool polling_out = false;
  };

  const H2Target* target = nullptr;
  bool open_loop = false;
  int inflight = 0;
  Clock::duration interval{};
  Clock::duration span{};  // closed loop: how long it runs
  Clock::time_point start, end;
  uint64_t total = 0;  // open loop: calls to send
  uint64_t sent = 0, finished = 0;
  std::vector<Call> calls;
  std::vector<Conn> conns;
  std::vector<std::string> bodies;
  std::vector<nghttp2_nv> nva;
  std::vector<std::string> nv_text;
  int epoll_fd = -1;
  std::string failure;  // a transport failure that ends the run
  H2Result result;

  ~Run() {
    for (Conn& c : conns) {
      if (c.session != nullptr) nghttp2_session_del(c.session);
      if (c.fd >= 0) ::close(c.fd);
    }
    if (epoll_fd >= 0) ::close(epoll_fd);
  }

  Call& CallOf(nghttp2_session* s, int32_t stream_id) {
    return calls[reinterpret_cast<uintptr_t>(nghttp2_session_get_stream_user_data(s, stream_id)) - 1];
  }

  void Submit(int conn, Clock::time_point due) {
    const uint64_t i = calls.size();
    Call& c = calls.emplace_back();
    c.due = due;
    c.conn = conn;
    c.body = &bodies[i % bodies.size()];
    nghttp2_data_provider body;
    body.source.ptr = reinterpret_cast<void*>(static_cast<uintptr_t>(i));
    body.read_callback = [](nghttp2_session*, int32_t, uint8_t* buf, size_t length, uint32_t* flags,
                            nghttp2_data_source* source, void* user) -> ssize_t {
      Call& call = static_cast<Run*>(user)->calls[reinterpret_cast<uintptr_t>(source->ptr)];
      const size_t n = std::min(length, call.body->size() - call.body_sent);
      std::memcpy(buf, call.body->data() + call.body_sent, n);
      call.body_sent += n;
      if (call.body_sent == call.body->size()) *flags |= NGHTTP2_DATA_FLAG_EOF;
      return static_cast<ssize_t>(n);
    };
    if (nghttp2_submit_request(conns[conn].session, nullptr, nva.data(), nva.size(), &body,
                               reinterpret_cast<void*>(static_cast<uintptr_t>(i + 1))) < 0) {
      failure = "nghttp2 refused a request";
    }
    ++sent;
  }

  void Finished(Call& c, uint32_t error_code) {
    ++finished;
    const auto now = Clock::now();
    if (error_code == 0 && c.grpc_status == 0) {
      ++result.ok;
      c.lat = Ms(now - c.due);
    } else {
      ++result.errors;
      if (result.first_error.empty()) {
        result.first_error = error_code != 0 ? "stream reset, HTTP/2 error " + std::to_string(error_code)
                                             : "grpc-status " + std::to_string(c.grpc_status) + ": " +
                                                   c.grpc_message;
      }
    }
    if (!open_loop && now < end) Submit(c.conn, now);  // c may move: not used after this
  }

  bool Setup(int connections) {
    epoll_fd = ::epoll_create1(EPOLL_CLOEXEC);
    nghttp2_session_callbacks* cb = nullptr;
    nghttp2_session_callbacks_new(&cb);
    nghttp2_session_callbacks_set_on_header_callback(
        cb, [](nghttp2_session* s, const nghttp2_frame* frame, const uint8_t* name, size_t namelen,
               const uint8_t* value, size_t valuelen, uint8_t, void* user) -> int {
          if (frame->hd.type != NGHTTP2_HEADERS) return 0;
          Run* run = static_cast<Run*>(user);
          if (nghttp2_session_get_stream_user_data(s, frame->hd.stream_id) == nullptr) return 0;
          Call& c = run->CallOf(s, frame->hd.stream_id);
          const std::string_view n(reinterpret_cast<const char*>(name), namelen);
          const std::string v(reinterpret_cast<const char*>(value), valuelen);
          if (n == "grpc-status") c.grpc_status = std::atoi(v.c_str());
          if (n == "grpc-message") c.grpc_message = v;
          return 0;
        });
    nghttp2_session_callbacks_set_on_stream_close_callback(
        cb, [](nghttp2_session* s, int32_t stream_id, uint32_t error_code, void* user) -> int {
          Run* run = static_cast<Run*>(user);
          if (nghttp2_session_get_stream_user_data(s, stream_id) == nullptr) return 0;
          run->Finished(run->CallOf(s, stream_id), error_code);
          return 0;
        });
    conns.resize(static_cast<size_t>(connections));
    for (size_t i = 0; i < conns.size(); ++i) {
      Conn& c = conns[i];
      c.fd = Connect(target->addr, &failure);
      if (c.fd < 0) break;
      nghttp2_session_client_new(&c.session, cb, this);
      const nghttp2_settings_entry settings[] = {{NGHTTP2_SETTINGS_MAX_CONCURRENT_STREAMS, 10000},
                                                 {NGHTTP2_SETTINGS_INITIAL_WINDOW_SIZE, 1 << 20}};
      nghttp2_submit_settings(c.session, NGHTTP2_FLAG_NONE, settings, 2);
      epoll_event ev{};
      ev.events = EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_ADD, c.fd, &ev);
    }
    nghttp2_session_callbacks_del(cb);
    return failure.empty();
  }

  // Hands nghttp2's output to the socket, polling for room when it is full.
  void Flush(size_t i) {
    Conn& c = conns[i];
    for (;;) {
      const uint8_t* data = nullptr;
      const ssize_t n = nghttp2_session_mem_send(c.session, &data);
      if (n < 0) failure = std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(n));
      if (n <= 0) break;
      c.out.append(reinterpret_cast<const char*>(data), static_cast<size_t>(n));
    }
    while (c.out_off < c.out.size()) {
      const ssize_t w = ::send(c.fd, c.out.data() + c.out_off, c.out.size() - c.out_off, MSG_NOSIGNAL);
      if (w > 0) {
        c.out_off += static_cast<size_t>(w);
      } else {
        if (errno != EAGAIN && errno != EINTR) failure = std::string("send: ") + std::strerror(errno);
        break;
      }
    }
    if (c.out_off == c.out.size()) {
      c.out.clear();
      c.out_off = 0;
    }
    const bool want_out = !c.out.empty();
    if (want_out != c.polling_out) {
      epoll_event ev{};
      ev.events = want_out ? (EPOLLIN | EPOLLOUT) : EPOLLIN;
      ev.data.u64 = i;
      ::epoll_ctl(epoll_fd, EPOLL_CTL_MOD, c.fd, &ev);
      c.polling_out = want_out;
    }
  }

  void Read(size_t i) {
    Conn& c = conns[i];
    uint8_t buf[64 * 1024];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        const ssize_t used = nghttp2_session_mem_recv(c.session, buf, static_cast<size_t>(n));
        if (used < 0) failure = std::string("nghttp2: ") + nghttp2_strerror(static_cast<int>(used));
      } else if (n == 0) {
        failure = "the server closed the connection";
        return;
      } else {
        if (errno != EAGAIN && errno != EINTR) failure = std::string("recv: ") + std::strerror(errno);
        return;
      }
    }
  }
};

H2Unary::H2Unary(H2Target target) : target_(std::move(target)) {}

H2Unary::~H2Unary() = default;

H2Result H2Unary::Closed(int connections, int inflight, double seconds) {
  Run run;
  run.open_loop = false;
  run.inflight = inflight;
  run.span = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds));
  return Drive(run, connections);
}

H2Result H2Unary::Open(int connections, double rate, double seconds) {
  Run run;
  run.open_loop = true;
  run.interval = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(1.0 / rate));
  run.total = static_cast<uint64_t>(rate * seconds);
  run.calls.reserve(run.total);
  return Drive(run, connections);
}

H2Result H2Unary::Drive(Run& run, int connections) {
  run.target = &target_;
  for (const std::string& m : target_.messages) run.bodies.push_back(Frame(m));
  auto nv = [&](const std::string& name, const std::string& value) {
    run.nv_text.push_back(name);
    run.nv_text.push_back(value);
  };
  nv(":method", "POST");
  nv(":scheme", "http");
  nv(":authority", target_.addr);
  nv(":path", target_.path);
  nv("content-type", "application/grpc");
  nv("te", "trailers");
  for (const auto& [k, v] : target_.headers) nv(k, v);
  for (size_t i = 0; i < run.nv_text.size(); i += 2) {
    const std::string& k = run.nv_text[i];
    const std::string& v = run.nv_text[i + 1];
    run.nva.push_back({reinterpret_cast<uint8_t*>(const_cast<char*>(k.data())),
                       reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), k.size(), v.size(),
                       NGHTTP2_NV_FLAG_NO_COPY_NAME | NGHTTP2_NV_FLAG_NO_COPY_VALUE});
  }
  if (!run.Setup(connections)) {
    H2Result failed;
    failed.first_error = run.failure;
    return failed;
  }
  // Timed from here, once connected.
  if (run.open_loop) {
    run.start = Clock::now() + std::chrono::milliseconds(20);
    run.end = run.start + run.interval * static_cast<int64_t>(run.total);
  } else {
    run.start = Clock::now();
    run.end = run.start + run.span;
    for (int c = 0; c < connections; ++c) {
      for (int k = 0; k < run.inflight; ++k) run.Submit(c, run.start);
    }
  }
  // The open loop wakes on an absolute timer when each call is due.
  prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
  const int timer = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
  auto arm = [&](Clock::time_point at) {
    itimerspec spec{};
    spec.it_value = ToTimespec(at);
    ::timerfd_settime(timer, TFD_TIMER_ABSTIME, &spec, nullptr);
  };
  epoll_event tev{};
  tev.events = EPOLLIN;
  tev.data.u64 = UINT64_MAX;
  ::epoll_ctl(run.epoll_fd, EPOLL_CTL_ADD, timer, &tev);
  auto due = [&](uint64_t i) { return run.start + run.interval * static_cast<int64_t>(i); };
  if (run.open_loop) arm(due(0));
  const auto give_up = run.end + std::chrono::seconds(30);
  epoll_event events[16];
  while (run.failure.empty()) {
    for (size_t i = 0; i < run.conns.size(); ++i) run.Flush(i);
    const auto now = Clock::now();
    const bool all_sent = run.open_loop ? run.sent == run.total : now >= run.end;
    if ((all_sent && run.finished == run.sent) || now > give_up) break;
    const int n = ::epoll_wait(run.epoll_fd, events, 16, 100);
    for (int e = 0; e < n; ++e) {
      if (events[e].data.u64 == UINT64_MAX) {
        uint64_t expirations;
        [[maybe_unused]] ssize_t r = ::read(timer, &expirations, sizeof expirations);
        const auto t = Clock::now();
        while (run.sent < run.total && due(run.sent) <= t) {
          const uint64_t i = run.sent;
          run.Submit(static_cast<int>(i % run.conns.size()), due(i));
          run.calls[i].lag = Ms(t - due(i));
        }
        if (run.sent < run.total) arm(due(run.sent));
      } else {
        run.Read(events[e].data.u64);
      }
    }
  }
  ::close(timer);
  H2Result result = std::move(run.result);
  if (!run.failure.empty() && result.first_error.empty()) result.first_error = run.failure;
  result.errors += run.sent - run.finished;  // never answered
  result.seconds = std::chrono::duration<double>(Clock::now() - run.start).count();
  if (run.open_loop) {
    result.timings.reserve(run.calls.size());
    for (const auto& c : run.calls) result.timings.push_back({c.due, c.lat, c.lag});
  }
  return result;
}

}  // namespace steward::bench
