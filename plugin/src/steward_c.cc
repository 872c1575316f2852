// The C interface: a thin shell over steward::Plugin. Nothing may escape
// as an exception (the plugin throws none; allocation failure is caught
// here and reported as RESOURCE_EXHAUSTED).
#include "steward/steward_c.h"

#include <cstring>
#include <new>
#include <string>

#include "steward/plugin.h"

struct steward_plugin {
  std::unique_ptr<steward::Plugin> impl;
};

namespace {

std::string Str(const char* s) { return s == nullptr ? std::string() : std::string(s); }
std::string_view View(const char* s) { return s == nullptr ? std::string_view() : std::string_view(s); }

void Copy(const std::string& from, char* to, size_t len) {
  if (to == nullptr || len == 0) return;
  size_t n = std::min(from.size(), len - 1);
  std::memcpy(to, from.data(), n);
  to[n] = '\0';
}

}  // namespace

extern "C" {

int steward_create(const steward_options* o, steward_plugin** out, char* err, size_t err_len) {
  return steward_create_tls(o, nullptr, out, err, err_len);
}

int steward_create_tls(const steward_options* o, const steward_tls_options* tls, steward_plugin** out, char* err,
                       size_t err_len) {
  if (out == nullptr || o == nullptr) {
    Copy("options and out are required", err, err_len);
    return static_cast<int>(steward::StatusCode::kInvalidArgument);
  }
  *out = nullptr;
  try {
    steward::Options opt;
    opt.mode = o->mode == STEWARD_EMBEDDED ? steward::Options::Mode::kEmbedded : steward::Options::Mode::kRemote;
    opt.realm_id = Str(o->realm_id);
    opt.server_id = Str(o->server_id);
    opt.build = Str(o->build);
    if (o->address != nullptr) opt.address = o->address;
    opt.token = Str(o->token);
    opt.tls_ca_file = Str(o->tls_ca_file);
    if (o->data_dir != nullptr) opt.data_dir = o->data_dir;
    opt.listen = Str(o->listen);
    opt.config_file = Str(o->config_file);
    if (o->event_buffer != 0) opt.event_buffer = o->event_buffer;
    if (o->flush_interval_ms != 0) opt.flush_interval_ms = o->flush_interval_ms;
    if (tls != nullptr) {
      opt.tls_cert_file = Str(tls->cert_file);
      opt.tls_key_file = Str(tls->key_file);
      if (tls->refresh_seconds != 0) opt.tls_refresh_seconds = tls->refresh_seconds;
    }
    auto* p = new steward_plugin;
    steward::Status s = steward::Plugin::Create(opt, &p->impl);
    if (!s.ok()) {
      delete p;
      Copy(s.message, err, err_len);
      return static_cast<int>(s.code);
    }
    *out = p;
    return 0;
  } catch (const std::bad_alloc&) {
    Copy("out of memory", err, err_len);
    return static_cast<int>(steward::StatusCode::kResourceExhausted);
  } catch (...) {
    Copy("unexpected error", err, err_len);
    return static_cast<int>(steward::StatusCode::kInternal);
  }
}

void steward_destroy(steward_plugin* p) { delete p; }

int steward_check_player(steward_plugin* p, const char* player, steward_player_status* out, char* reason,
                         size_t reason_len) {
  if (p == nullptr || player == nullptr || out == nullptr) {
    return static_cast<int>(steward::StatusCode::kInvalidArgument);
  }
  try {
    steward::PlayerStatus s = p->impl->CheckPlayer(player);
    out->known = s.known;
    out->can_login = s.can_login;
    out->can_chat = s.can_chat;
    out->shadow_muted = s.shadow_muted;
    out->appealable = s.appealable;
    out->remaining_ms = s.remaining_ms;
    out->sanction_id = s.sanction_id;
    Copy(s.reason, reason, reason_len);
    return 0;
  } catch (...) {
    return static_cast<int>(steward::StatusCode::kResourceExhausted);
  }
}

void steward_record_event(steward_plugin* p, const char* type, const char* player, double value, const char* text,
                          const char* attr_key, const char* attr_value) {
  if (p == nullptr || type == nullptr) return;
  try {
    p->impl->RecordEvent(type, View(player), value, View(text), View(attr_key), View(attr_value));
  } catch (...) {
  }
}

uint64_t steward_submit_ticket(steward_plugin* p, const steward_ticket* t) {
  if (p == nullptr || t == nullptr) return 0;
  try {
    steward::TicketSubmission s;
    s.player_id = Str(t->player_id);
    s.category = Str(t->category);
    s.subject = Str(t->subject);
    s.description = Str(t->description);
    s.reported_player_id = Str(t->reported_player_id);
    s.map = Str(t->map);
    s.language = Str(t->language);
    s.idempotency_key = Str(t->idempotency_key);
    return p->impl->SubmitTicket(s);
  } catch (...) {
    return 0;
  }
}

void steward_set_players_online(steward_plugin* p, uint32_t n) {
  if (p != nullptr) p->impl->SetPlayersOnline(n);
}

size_t steward_poll(steward_plugin* p, steward_directive_fn fn, void* user, size_t max) {
  if (p == nullptr || fn == nullptr) return 0;
  try {
    return p->impl->Poll(
        [&](const steward::Directive& d) {
          steward_directive c{};
          c.kind = static_cast<int>(d.kind);
          c.seq = d.seq;
          c.id = d.id;
          c.request_id = d.request_id;
          c.player_id = d.player_id.c_str();
          c.sanction_type = d.sanction_type.c_str();
          c.channel = d.channel.c_str();
          c.title = d.title.c_str();
          c.text = d.text.c_str();
          c.until_ms = d.until_ms;
          c.action_taken = d.action_taken;
          c.show_to_player = d.show_to_player;
          c.status_code = static_cast<int>(d.status.code);
          c.status_message = d.status.message.c_str();
          fn(&c, user);
        },
        max);
  } catch (...) {
    return 0;
  }
}

void steward_stats(steward_plugin* p, uint64_t* recorded, uint64_t* sent, uint64_t* shed, int* connected) {
  if (p == nullptr) return;
  steward::Stats s = p->impl->GetStats();
  if (recorded != nullptr) *recorded = s.events_recorded;
  if (sent != nullptr) *sent = s.events_sent;
  if (shed != nullptr) *shed = s.events_shed;
  if (connected != nullptr) *connected = s.connected;
}

int steward_listening_port(steward_plugin* p) { return p == nullptr ? 0 : p->impl->listening_port(); }

}  // extern "C"
