/* The C interface from C: an embedded plugin records events, files a
 * ticket and hears back through poll; a player not yet cached is allowed.
 * Exit 0 on success. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "steward/steward_c.h"

static int done_status = -1;
static uint64_t done_ticket = 0;

static void on_directive(const steward_directive* d, void* user) {
  (void)user;
  if (d->kind == STEWARD_DIRECTIVE_REQUEST_DONE) {
    done_status = d->status_code;
    done_ticket = d->id;
  }
}

static void sleep_ms(long ms) {
  struct timespec ts;
  ts.tv_sec = ms / 1000;
  ts.tv_nsec = (ms % 1000) * 1000000L;
  nanosleep(&ts, NULL);
}

#define CHECK(cond, msg)                         \
  do {                                           \
    if (!(cond)) {                               \
      fprintf(stderr, "FAIL: %s\n", msg);        \
      return 1;                                  \
    }                                            \
  } while (0)

int main(int argc, char** argv) {
  char cmd[512];
  const char* dir = argc > 1 ? argv[1] : "c_api_data";
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0) return 1;

  steward_options o;
  memset(&o, 0, sizeof o);
  o.mode = STEWARD_EMBEDDED;
  o.realm_id = "eu1";
  o.server_id = "eu1-c";
  o.data_dir = dir;

  steward_plugin* p = NULL;
  char err[256];
  steward_options bad = o;
  bad.realm_id = NULL;
  CHECK(steward_create(&bad, &p, err, sizeof err) == 3 && p == NULL, "missing realm not refused");
  CHECK(strstr(err, "realm_id") != NULL, "error does not name the option");
  /* TLS settings reach the plugin: a client certificate without TLS. */
  steward_options remote;
  memset(&remote, 0, sizeof remote);
  remote.realm_id = "eu1";
  remote.server_id = "eu1-c";
  remote.token = "t";
  steward_tls_options tls;
  memset(&tls, 0, sizeof tls);
  tls.cert_file = "client.pem";
  tls.key_file = "client.key";
  CHECK(steward_create_tls(&remote, &tls, &p, err, sizeof err) == 3 && p == NULL,
        "a client certificate without a CA file not refused");
  CHECK(strstr(err, "tls_ca_file") != NULL, "error does not name the missing CA file");

  int rc = steward_create(&o, &p, err, sizeof err);
  if (rc != 0) {
    fprintf(stderr, "FAIL: create: %d %s\n", rc, err);
    return 1;
  }
  steward_player_status st;
  char reason[128];
  CHECK(steward_check_player(p, "p-1", &st, reason, sizeof reason) == 0, "check failed");
  CHECK(st.can_login == 1 && st.known == 0, "an unknown player is allowed, not yet known");

  for (int i = 0; i < 100; ++i) steward_record_event(p, "kill", "p-1", 1.0, NULL, NULL, NULL);
  steward_record_event(p, "chat", "p-1", 0.0, "hello from C", "channel", "world");

  steward_ticket t;
  memset(&t, 0, sizeof t);
  t.player_id = "p-1";
  t.category = "question";
  t.subject = "Where is the bank?";
  uint64_t req = steward_submit_ticket(p, &t);
  CHECK(req != 0, "no request id");

  uint64_t recorded = 0, sent = 0, shed = 0;
  int connected = 0;
  for (int i = 0; i < 200 && (done_status < 0 || sent < 101); ++i) {
    steward_poll(p, on_directive, NULL, 64);
    steward_stats(p, &recorded, &sent, &shed, &connected);
    sleep_ms(25);
  }
  CHECK(done_status == 0, "ticket not filed");
  CHECK(done_ticket > 0, "no ticket id");
  CHECK(recorded == 101 && sent == 101 && shed == 0, "events not all sent");

  for (int i = 0; i < 200; ++i) {
    steward_check_player(p, "p-1", &st, reason, sizeof reason);
    if (st.known) break;
    sleep_ms(10);
  }
  CHECK(st.known == 1 && st.can_login == 1 && st.can_chat == 1, "looked-up player not cached as clean");
  steward_destroy(p);
  printf("c_api: ok (ticket %llu, %llu events)\n", (unsigned long long)done_ticket, (unsigned long long)sent);
  return 0;
}
