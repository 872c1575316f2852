// Steward for game servers: the one header a game includes.
//
// A Plugin connects a game server to Steward: in remote mode to a stewardd
// over gRPC, in embedded mode to Steward services it hosts in-process
// (with its own RocksDB and, optionally, a port for GMs' stewardctl).
// Either way the game loop makes the same calls and none of them waits
// on the network:
//
//   CheckPlayer   answered from a local cache kept in step with every
//                 sanction change Steward pushes (a player not yet in the
//                 cache is allowed and looked up in the background; should
//                 the lookup find a ban, Poll() hands the game a kick).
//   RecordEvent   copied into a bounded lock-free buffer; a background
//                 thread batches and streams it. When the buffer is full
//                 the event is dropped and counted (Stats::events_shed).
//   SubmitTicket, ReportPlayer, SubmitBug
//                 queued with an idempotency key and sent in the
//                 background, retried across disconnects without creating
//                 duplicates; the outcome arrives through Poll().
//   Poll          drains what Steward sent (kicks, mutes, announcements,
//                 ticket replies, report outcomes, bug fixes) and the
//                 outcomes of submissions, on the game's own thread.
//
// Nothing here throws; failures are a Status or a counted event. All
// methods are safe to call from any thread; Poll's callback runs on the
// thread that calls Poll.
#ifndef STEWARD_PLUGIN_H_
#define STEWARD_PLUGIN_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace steward {

// Same numbers as gRPC status codes.
enum class StatusCode : int {
  kOk = 0,
  kCancelled = 1,
  kUnknown = 2,
  kInvalidArgument = 3,
  kDeadlineExceeded = 4,
  kNotFound = 5,
  kAlreadyExists = 6,
  kPermissionDenied = 7,
  kResourceExhausted = 8,
  kFailedPrecondition = 9,
  kAborted = 10,
  kOutOfRange = 11,
  kUnimplemented = 12,
  kInternal = 13,
  kUnavailable = 14,
  kDataLoss = 15,
  kUnauthenticated = 16,
};

struct Status {
  StatusCode code = StatusCode::kOk;
  std::string message;
  bool ok() const { return code == StatusCode::kOk; }
};

struct Options {
  enum class Mode { kRemote, kEmbedded };
  // Default: kRemote.
  Mode mode = Mode::kRemote;
  // This game server's realm and id. Required.
  std::string realm_id;
  std::string server_id;
  // Reported at registration. Default: empty.
  std::string build;

  // Remote mode: where stewardd listens and this server's game-server
  // token. Default address: "127.0.0.1:50051".
  std::string address = "127.0.0.1:50051";
  std::string token;
  // PEM file of the CA that signed stewardd's certificate; empty = plain
  // text (loopback or a private network only). Default: empty.
  std::string tls_ca_file;
  // How often the TLS files are read again: a CA rotation (replace the CA
  // file, then stewardd's certificate) needs no restart of the game
  // server, as connections made after it trust the new file. Default: 60.
  int tls_refresh_seconds = 60;
  // For a stewardd that requires client certificates (its tls.client_ca_file):
  // this game server's certificate chain and private key, PEM files, read
  // again like the CA file. A renewal is taken once the two files hold a
  // matching pair; until then the pair in use stays, so they can be
  // replaced one after the other. The plugin works from a checked copy in
  // a private directory under TMPDIR (or /tmp), removed when it is
  // destroyed. Both or neither. Default: empty.
  std::string tls_cert_file;
  std::string tls_key_file;

  // Embedded mode: the RocksDB directory (created if missing). Default:
  // "steward-data".
  std::string data_dir = "steward-data";
  // Also listen here for GMs' stewardctl, e.g. "127.0.0.1:50051" or
  // "127.0.0.1:0" for any free port (see Plugin::listening_port). Empty:
  // no port. Default: empty.
  std::string listen;
  // A stewardd TOML config for the embedded services (GM principals,
  // [reports], [vip], [monitoring]); its listen and data_dir are ignored.
  // Default: empty (no GM can connect).
  std::string config_file;

  // Events buffered before new ones are shed. Default: 65536.
  size_t event_buffer = 65536;
  // Largest batch sent. Default: 1000 events.
  size_t max_batch_events = 1000;
  // How often buffered events are sent. Default: 50 ms.
  int flush_interval_ms = 50;
  // Reconnect backoff bounds. Defaults: 100 ms, 5000 ms.
  int reconnect_min_ms = 100;
  int reconnect_max_ms = 5000;
  // Heartbeat period. Default: 5000 ms.
  int heartbeat_interval_ms = 5000;
  // Players the sanction cache holds at most. When full, players with
  // nothing in force are dropped first, then others, down to 90%; a dropped
  // player is looked up again at their next CheckPlayer. Default: 1,000,000
  // (about 100 MB with short ids).
  size_t cache_max_players = 1'000'000;
};

// A player's standing, as the cache knows it now. Expiry is judged at the
// time of the call.
struct PlayerStatus {
  bool known = false;  // false: not cached yet (allowed; looked up in the background)
  bool can_login = true;
  bool can_chat = true;
  bool shadow_muted = false;  // apply silently: the player must not be told
  std::vector<std::string> restricted_features;
  // The restriction that blocks login (else chat), for the player's eyes.
  std::string reason;
  int64_t remaining_ms = 0;  // 0 = permanent (or nothing blocks)
  bool appealable = false;
  uint64_t sanction_id = 0;
};

// Something for the game to act on, handed out by Poll().
struct Directive {
  enum class Kind {
    kKick,                // disconnect player_id now (a ban or a kick)
    kSanction,            // a restriction took effect (mute, restrict...): sanction_type, until_ms
    kSanctionLifted,      // revoked or expired early
    kAnnouncement,        // show title/text on channel until until_ms
    kAnnouncementCancel,  // stop showing announcement `id`
    kTicketReply,         // a GM answered player_id's ticket `id`: title = subject, text = reply
    kReportOutcome,       // player_ids' reports were resolved; action_taken
    kBugStatus,           // bug `id` that player_ids reported: text = status, title = bug title
    kAppealOutcome,       // player_id's appeal `id` was decided: text = decision
    kRequestDone,         // a SubmitTicket/ReportPlayer/SubmitBug finished: request_id, id, status
    kResync,              // directives up to seq were removed (retention) before this server read
                          // them: re-check online players with CheckPlayer
  };
  Kind kind = Kind::kKick;
  uint64_t seq = 0;  // Steward's directive sequence (0 for kRequestDone)
  uint64_t id = 0;   // sanction, announcement, ticket, bug, appeal, or the created record
  uint64_t request_id = 0;
  std::string player_id;
  std::vector<std::string> player_ids;
  std::string sanction_type;  // "mute", "temp_ban", ...
  std::string channel;        // announcements: "system_chat", "banner", "mail"
  std::string title;
  std::string text;
  int64_t until_ms = 0;  // 0 = no end
  bool action_taken = false;
  bool show_to_player = true;
  Status status;  // kRequestDone
};

struct TicketSubmission {
  std::string player_id;      // required
  std::string category;       // question, complaint, suggestion, bug, player_report, account, payment
  std::string subject;        // required
  std::string description;
  std::string reported_player_id;  // player_report only
  std::string map;
  float x = 0, y = 0, z = 0;
  std::string language;       // the player's, for queues
  std::string idempotency_key;  // empty: one is made
};

struct PlayerReportSubmission {
  std::string reporter_id;   // required
  std::string reported_id;   // required
  std::string category;      // cheating, exploiting, botting, offensive_name, verbal_abuse,
                             // harassment, scamming, spamming, recruiting, real_money_trading, other
  std::string message;
  std::string match_id;
  std::vector<std::string> chat_excerpt;  // lines the game saw, newest last
  std::string idempotency_key;
};

struct BugSubmission {
  std::string player_id;   // required
  std::string title;       // required
  std::string severity;    // s1..s4
  std::string build;
  std::string platform;
  std::string repro_steps;
  std::string expected;
  std::string actual;
  std::string crash_signature;
  std::string idempotency_key;
};

struct Stats {
  uint64_t events_recorded = 0;  // accepted into the buffer
  uint64_t events_sent = 0;      // acknowledged by Steward
  uint64_t events_shed = 0;      // dropped: buffer full, too large, or refused
  uint64_t directives = 0;
  uint64_t cache_misses = 0;
  uint64_t cache_players = 0;    // players the cache holds now
  uint64_t cache_evictions = 0;  // players dropped to keep within cache_max_players
  uint64_t reconnects = 0;
  uint64_t requests_pending = 0;
  bool connected = false;
};

class Plugin {
 public:
  // Validates `options`, starts the background threads (and, embedded,
  // the services). Never throws: a bad option or an unopenable data dir
  // is a Status.
  static Status Create(const Options& options, std::unique_ptr<Plugin>* out);

  virtual ~Plugin() = default;  // stops threads; unsent events are counted shed

  virtual PlayerStatus CheckPlayer(std::string_view player_id) = 0;
  // Looks the player up in the background now (e.g. in the lobby), so the
  // login check finds them cached.
  virtual void Prefetch(std::string_view player_id) = 0;

  // type: up to 64 bytes; text: chat lines and the like, up to 512 bytes;
  // one optional attribute (e.g. "device", hash). Oversized fields are
  // shed and counted. time_ms 0 = now.
  virtual void RecordEvent(std::string_view type, std::string_view player_id, double value,
                           std::string_view text = {}, std::string_view attr_key = {},
                           std::string_view attr_value = {}, int64_t time_ms = 0) = 0;

  // Queue a submission; the return is its request id, repeated in the
  // kRequestDone directive.
  virtual uint64_t SubmitTicket(const TicketSubmission& t) = 0;
  virtual uint64_t ReportPlayer(const PlayerReportSubmission& r) = 0;
  virtual uint64_t SubmitBug(const BugSubmission& b) = 0;

  // Players online, sent with the next heartbeat (feeds CCU metrics).
  virtual void SetPlayersOnline(uint32_t n) = 0;

  // Hands each pending directive to `fn` on this thread, at most `max`;
  // returns how many.
  virtual size_t Poll(const std::function<void(const Directive&)>& fn, size_t max = 1024) = 0;

  virtual Stats GetStats() const = 0;
  // Embedded mode with `listen`: the bound port; else 0.
  virtual int listening_port() const = 0;
};

}  // namespace steward

#endif  // STEWARD_PLUGIN_H_
