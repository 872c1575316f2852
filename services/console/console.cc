#include "services/console/console.h"

#include <httplib.h>
#include <openssl/rand.h>

#include <atomic>
#include <fstream>
#include <optional>
#include <sstream>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "nlohmann/json.hpp"
#include "services/common/log.h"
#include "services/common/principal.h"
#include "services/console/json_face.h"
#include "services/transport/auth.h"
#include "services/transport/http_listener.h"

namespace steward {
namespace {

constexpr absl::string_view kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";
// Failed sign-ins one address may make per minute.
constexpr int kSignInFailuresPerMinute = 10;

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    LogError("console: the system's random source failed");
    std::abort();  // a guessable session id is worse than no console
  }
  return absl::BytesToHexString(raw);
}

struct Session {
  std::string csrf;
  std::string authorization;  // "Bearer <the GM's token>": never leaves stewardd
  std::string name, role;
  int64_t created_ms = 0, last_ms = 0;
};

}  // namespace

struct Console::Rep {
  ConsoleOptions opt;
  const Authenticator* auth;
  JsonFace face;
  std::string cookie_name;
  std::atomic<bool> stopping{false};
  absl::Mutex mu;
  absl::flat_hash_map<std::string, Session> sessions ABSL_GUARDED_BY(mu);
  // Failed sign-ins per remote address in the current minute.
  absl::flat_hash_map<std::string, int> failures ABSL_GUARDED_BY(mu);
  int64_t failures_minute ABSL_GUARDED_BY(mu) = 0;
  std::unique_ptr<HttpListener> listener;  // last: its handlers use the above

  Rep(ConsoleOptions o, const Authenticator* a, std::shared_ptr<grpc::Channel> ch)
      : opt(std::move(o)), auth(a), face(std::move(ch)),
        cookie_name(opt.certificate != nullptr ? "__Host-steward_session" : "steward_session") {}

  // The session the request's cookie names, if live; `touch` renews its
  // idle clock.
  std::optional<Session> Find(const httplib::Request& req, bool touch, std::string* id_out = nullptr) {
    const std::string cookies = req.get_header_value("Cookie");
    for (absl::string_view c : absl::StrSplit(cookies, ';')) {
      c = absl::StripAsciiWhitespace(c);
      if (!absl::ConsumePrefix(&c, cookie_name) || !absl::ConsumePrefix(&c, "=")) continue;
      const int64_t now = opt.clock->NowMs();
      absl::MutexLock lock(&mu);
      auto it = sessions.find(c);
      if (it == sessions.end()) return std::nullopt;
      Session& s = it->second;
      if (now - s.last_ms > opt.session_idle_ms || now - s.created_ms > opt.session_max_ms) {
        sessions.erase(it);
        return std::nullopt;
      }
      if (touch) s.last_ms = now;
      if (id_out != nullptr) *id_out = std::string(c);
      return s;
    }
    return std::nullopt;
  }

  std::string Cookie(absl::string_view id, int64_t max_age_s) const {
    return absl::StrCat(cookie_name, "=", id, "; Path=/; HttpOnly; SameSite=Strict; Max-Age=", max_age_s,
                        opt.certificate != nullptr ? "; Secure" : "");
  }

  static void Reply(httplib::Response& res, const HttpReply& r) {
    res.status = r.status;
    res.set_content(r.body, r.content_type.c_str());
  }

  bool SignInAllowed(const std::string& addr) {
    absl::MutexLock lock(&mu);
    const int64_t minute = opt.clock->NowMs() / 60'000;
    if (minute != failures_minute) {
      failures.clear();
      failures_minute = minute;
    }
    return failures[addr] < kSignInFailuresPerMinute;
  }

  void SignIn(const httplib::Request& req, httplib::Response& res) {
    if (!SignInAllowed(req.remote_addr)) {
      return Reply(res, JsonFace::Error(8, "too many failed sign-ins from this address; wait a minute"));
    }
    std::string token;
    try {
      auto body = nlohmann::json::parse(req.body);
      token = body.at("token").get<std::string>();
    } catch (const std::exception&) {
      return Reply(res, JsonFace::Error(3, "send {\"token\": \"<your GM token>\"}"));
    }
    auto caller = auth->Authenticate(absl::StrCat("Bearer ", token), "");
    if (!caller.ok() || !caller->is_gm()) {
      absl::MutexLock lock(&mu);
      ++failures[req.remote_addr];
      LogInfo("console: a sign-in from ", req.remote_addr, " was refused");
      return Reply(res, JsonFace::Error(16, "that token does not belong to a GM; check it and try again"));
    }
    Session s;
    s.csrf = RandomHex(16);
    s.authorization = absl::StrCat("Bearer ", token);
    s.name = caller->name();
    s.role = std::string(RoleName(caller->principal->role));
    s.created_ms = s.last_ms = opt.clock->NowMs();
    const std::string id = RandomHex(32);
    {
      absl::MutexLock lock(&mu);
      sessions[id] = s;
    }
    LogInfo("console: ", s.name, " signed in from ", req.remote_addr);
    res.set_header("Set-Cookie", Cookie(id, opt.session_max_ms / 1000));
    WhoAmI(s, res);
  }

  void WhoAmI(const Session& s, httplib::Response& res) {
    nlohmann::json j = {{"name", s.name},
                        {"role", s.role},
                        {"csrf", s.csrf},
                        {"idleMs", opt.session_idle_ms}};
    res.set_content(j.dump(), "application/json");
  }

  // The Authorization a call carries: its own header, or its session's
  // (with the CSRF token for anything but a stream). Empty with the
  // reply set when neither will do.
  std::string CallAuthorization(const httplib::Request& req, httplib::Response& res, bool needs_csrf) {
    std::string own = req.get_header_value("Authorization");
    if (!own.empty()) return own;
    auto s = Find(req, /*touch=*/true);
    if (!s) {
      Reply(res, JsonFace::Error(16, "not signed in (or the session expired): sign in again"));
      return "";
    }
    if (needs_csrf && req.get_header_value("X-Steward-CSRF") != s->csrf) {
      Reply(res, JsonFace::Error(7, "the X-Steward-CSRF header is missing or wrong; reload the console"));
      return "";
    }
    return s->authorization;
  }

  void Stream(const httplib::Request& req, httplib::Response& res, const std::string& path) {
    std::string authorization = CallAuthorization(req, res, /*needs_csrf=*/false);
    if (authorization.empty()) return;
    std::string request = req.has_param("request") ? req.get_param_value("request") : "";
    res.set_header("Cache-Control", "no-store");
    res.set_chunked_content_provider(
        "text/event-stream",
        [this, path, request, authorization](size_t, httplib::DataSink& sink) {
          std::string hello = ": open\n\n";
          sink.write(hello.data(), hello.size());
          std::string end = face.ServerStream(
              path, request, authorization,
              [&sink](const std::string& json) {
                std::string event = absl::StrCat("data: ", json, "\n\n");
                return sink.is_writable() && sink.write(event.data(), event.size());
              },
              [&] {
                if (stopping || !sink.is_writable()) return false;
                std::string ping = ": ping\n\n";  // finds a reader that left
                return sink.write(ping.data(), ping.size());
              },
              1000);
          if (!end.empty() && sink.is_writable()) {
            std::string event = absl::StrCat("event: error\ndata: ", end, "\n\n");
            sink.write(event.data(), event.size());
          }
          sink.done();
          return true;
        });
  }

  void Routes(httplib::Server& http) {
    http.set_payload_max_length(JsonFace::kMaxRequestBytes + 1);
    http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
      if (!res.has_header("Content-Security-Policy")) res.set_header("Content-Security-Policy", std::string(kCsp));
      res.set_header("X-Content-Type-Options", "nosniff");
      res.set_header("X-Frame-Options", "DENY");
      res.set_header("Referrer-Policy", "no-referrer");
      res.set_header("Cross-Origin-Opener-Policy", "same-origin");
      if (!res.has_header("Cache-Control")) res.set_header("Cache-Control", "no-store");
    });
    http.Post("/console/session", [this](const httplib::Request& req, httplib::Response& res) {
      SignIn(req, res);
    });
    http.Get("/console/session", [this](const httplib::Request& req, httplib::Response& res) {
      auto s = Find(req, /*touch=*/false);
      if (!s) return Reply(res, JsonFace::Error(16, "not signed in"));
      WhoAmI(*s, res);
    });
    http.Delete("/console/session", [this](const httplib::Request& req, httplib::Response& res) {
      std::string id;
      auto s = Find(req, false, &id);
      if (s && req.get_header_value("X-Steward-CSRF") != s->csrf) {
        return Reply(res, JsonFace::Error(7, "the X-Steward-CSRF header is missing or wrong"));
      }
      if (s) {
        absl::MutexLock lock(&mu);
        sessions.erase(id);
        LogInfo("console: ", s->name, " signed out");
      }
      res.set_header("Set-Cookie", Cookie("", 0));
      res.set_content("{}", "application/json");
    });
    http.Post(R"(/(steward\.v1\.[A-Za-z]+/[A-Za-z]+))",
              [this](const httplib::Request& req, httplib::Response& res) {
                std::string authorization = CallAuthorization(req, res, /*needs_csrf=*/true);
                if (authorization.empty()) return;
                int64_t timeout_ms = 30'000;
                if (req.has_header("Connect-Timeout-Ms")) {
                  timeout_ms = std::clamp<int64_t>(
                      std::atoll(req.get_header_value("Connect-Timeout-Ms").c_str()), 1, 300'000);
                }
                // Game servers' scripts act for a player as over gRPC.
                Reply(res, face.Unary(req.path, req.get_header_value("Content-Type"), req.body,
                                      authorization, timeout_ms, req.get_header_value("X-Steward-Player")));
              });
    http.Get(R"(/console/stream(/steward\.v1\.[A-Za-z]+/[A-Za-z]+))",
             [this](const httplib::Request& req, httplib::Response& res) {
               Stream(req, res, req.matches[1]);
             });
    // A bug report's attachment, always as a download with the type it
    // was stored with, never shown inline (and sandboxed should a browser
    // try): what a player uploaded is never run by the GM's browser.
    http.Get(R"(/console/attachment/(\d+)/(\d+))", [this](const httplib::Request& req, httplib::Response& res) {
      std::string authorization = CallAuthorization(req, res, /*needs_csrf=*/false);
      if (authorization.empty()) return;
      const std::string body = absl::StrCat("{\"bugReportId\": \"", std::string(req.matches[1]),
                                            "\", \"index\": ", std::string(req.matches[2]), "}");
      HttpReply r = face.Unary("/steward.v1.ReportService/GetAttachment", "application/json", body, authorization);
      if (r.status != 200) return Reply(res, r);
      std::string name, type, data;
      try {
        auto j = nlohmann::json::parse(r.body);
        name = j.value("name", "attachment");
        type = j.value("contentType", "application/octet-stream");
        if (!absl::Base64Unescape(j.value("data", ""), &data)) throw std::runtime_error("base64");
      } catch (const std::exception&) {
        return Reply(res, JsonFace::Error(13, "the attachment could not be read"));
      }
      std::string safe_name;
      for (char ch : name) safe_name += (absl::ascii_isalnum(ch) || ch == '.' || ch == '-' || ch == '_') ? ch : '_';
      res.set_header("Content-Disposition", absl::StrCat("attachment; filename=\"", safe_name, "\""));
      res.set_header("Content-Security-Policy", "sandbox; default-src 'none'");
      res.set_content(data, type.c_str());
    });
    http.Get("/", [this](const httplib::Request&, httplib::Response& res) {
      std::ifstream in(opt.assets_dir + "/index.html", std::ios::binary);
      if (!in) {
        res.status = 503;
        res.set_content(absl::StrCat("The console's files are not at ", opt.assets_dir,
                                     " ([console] assets_dir); build them with `make console`.\n"),
                        "text/plain; charset=utf-8");
        return;
      }
      std::stringstream ss;
      ss << in.rdbuf();
      res.set_content(ss.str(), "text/html; charset=utf-8");
    });
    http.set_mount_point("/assets", opt.assets_dir + "/assets");
    http.set_file_request_handler([](const httplib::Request&, httplib::Response& res) {
      res.set_header("Cache-Control", "no-cache");
    });
    http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return;  // a handler's own error reply
      if (res.status == 413) {
        Reply(res, JsonFace::Error(8, absl::StrCat("the request body is over the limit of ",
                                                   JsonFace::kMaxRequestBytes, " bytes")));
      } else if (res.status == 404 && absl::StartsWith(req.path, "/steward.")) {
        Reply(res, JsonFace::Error(12, absl::StrCat("no method ", req.path)));
      }
    });
  }
};

absl::StatusOr<std::unique_ptr<Console>> Console::Start(ConsoleOptions options, const Authenticator* auth,
                                                        std::shared_ptr<grpc::Channel> channel) {
  auto rep = std::make_unique<Rep>(std::move(options), auth, std::move(channel));
  Rep* r = rep.get();
  auto listener = HttpListener::Start({.listen = r->opt.listen,
                                       .what = "console",
                                       .certificate = r->opt.certificate,
                                       .threads = r->opt.threads,
                                       .io_timeout_seconds = 30},
                                      [r](httplib::Server& http) { r->Routes(http); });
  if (!listener.ok()) return listener.status();
  rep->listener = *std::move(listener);
  return std::unique_ptr<Console>(new Console(std::move(rep)));
}

Console::Console(std::unique_ptr<Rep> rep) : rep_(std::move(rep)) {}

Console::~Console() {
  rep_->stopping = true;
  rep_->listener.reset();
}

int Console::port() const { return rep_->listener->port(); }

}  // namespace steward
