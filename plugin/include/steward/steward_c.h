/* Steward for game servers: the C interface, for engines and languages
 * that cannot take C++. The same plugin as steward/plugin.h behind opaque
 * handles. Strings passed in are copied before the call returns; strings
 * handed to a callback live only during that callback. No function
 * throws or aborts: each returns a steward_code (0 = ok; the numbers are
 * gRPC's status codes) and, where given an error buffer, a message.
 * Every function is safe from any thread; the poll callback runs on the
 * caller's thread. */
#ifndef STEWARD_STEWARD_C_H_
#define STEWARD_STEWARD_C_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct steward_plugin steward_plugin;

enum { STEWARD_REMOTE = 0, STEWARD_EMBEDDED = 1 };

/* Zero-initialise, then set what you need; NULL strings and 0 numbers
 * take the defaults documented in steward/plugin.h. */
typedef struct {
  int mode;                 /* STEWARD_REMOTE or STEWARD_EMBEDDED */
  const char* realm_id;     /* required */
  const char* server_id;    /* required */
  const char* build;
  const char* address;      /* remote */
  const char* token;        /* remote */
  const char* tls_ca_file;  /* remote */
  const char* data_dir;     /* embedded */
  const char* listen;       /* embedded: also serve stewardctl here */
  const char* config_file;  /* embedded */
  size_t event_buffer;
  int flush_interval_ms;
} steward_options;

typedef struct {
  int known;
  int can_login;
  int can_chat;
  int shadow_muted;
  int appealable;
  int64_t remaining_ms; /* 0 = permanent or nothing */
  uint64_t sanction_id;
} steward_player_status;

enum {
  STEWARD_DIRECTIVE_KICK = 0,
  STEWARD_DIRECTIVE_SANCTION = 1,
  STEWARD_DIRECTIVE_SANCTION_LIFTED = 2,
  STEWARD_DIRECTIVE_ANNOUNCEMENT = 3,
  STEWARD_DIRECTIVE_ANNOUNCEMENT_CANCEL = 4,
  STEWARD_DIRECTIVE_TICKET_REPLY = 5,
  STEWARD_DIRECTIVE_REPORT_OUTCOME = 6,
  STEWARD_DIRECTIVE_BUG_STATUS = 7,
  STEWARD_DIRECTIVE_APPEAL_OUTCOME = 8,
  STEWARD_DIRECTIVE_REQUEST_DONE = 9
};

typedef struct {
  int kind;
  uint64_t seq;
  uint64_t id;
  uint64_t request_id;
  const char* player_id;
  const char* sanction_type;
  const char* channel;
  const char* title;
  const char* text;
  int64_t until_ms;
  int action_taken;
  int show_to_player;
  int status_code;            /* REQUEST_DONE: 0 = ok */
  const char* status_message;
} steward_directive;

typedef void (*steward_directive_fn)(const steward_directive* d, void* user);

typedef struct {
  const char* player_id;
  const char* category;  /* question, complaint, bug, player_report, ... */
  const char* subject;
  const char* description;
  const char* reported_player_id;
  const char* map;
  const char* language;
  const char* idempotency_key;
} steward_ticket;

/* Creates a plugin; on failure *out stays NULL and err holds why. */
int steward_create(const steward_options* options, steward_plugin** out, char* err, size_t err_len);

/* TLS settings added after steward_options, which keeps its layout.
 * Zero-initialise; NULL and 0 take the defaults of steward/plugin.h. */
typedef struct {
  const char* cert_file; /* this game server's certificate, for a stewardd requiring mTLS */
  const char* key_file;  /* its private key; with cert_file */
  int refresh_seconds;   /* how often the CA, certificate and key files are re-read */
} steward_tls_options;

/* steward_create with TLS settings; tls may be NULL (= steward_create). */
int steward_create_tls(const steward_options* options, const steward_tls_options* tls, steward_plugin** out,
                       char* err, size_t err_len);
void steward_destroy(steward_plugin* p);

/* reason (may be NULL) receives the text shown to the player. */
int steward_check_player(steward_plugin* p, const char* player_id, steward_player_status* out,
                         char* reason, size_t reason_len);
/* player_id, text, attr_key, attr_value may be NULL. */
void steward_record_event(steward_plugin* p, const char* type, const char* player_id, double value,
                          const char* text, const char* attr_key, const char* attr_value);
/* The request id comes back in a STEWARD_DIRECTIVE_REQUEST_DONE. */
uint64_t steward_submit_ticket(steward_plugin* p, const steward_ticket* t);
void steward_set_players_online(steward_plugin* p, uint32_t n);
/* Calls fn for up to max pending directives; returns how many. */
size_t steward_poll(steward_plugin* p, steward_directive_fn fn, void* user, size_t max);
/* Counters: events recorded, sent, shed; 1 when connected. */
void steward_stats(steward_plugin* p, uint64_t* recorded, uint64_t* sent, uint64_t* shed, int* connected);
int steward_listening_port(steward_plugin* p);

#ifdef __cplusplus
}
#endif

#endif /* STEWARD_STEWARD_C_H_ */
