#!/usr/bin/env bash
# Regenerates the seed corpus from text-format requests with protoc. Each
# requests seed is one selector byte (see fuzz_requests.cc) followed by the
# encoded message.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
proto=$here/../../proto
out=$here/corpus/requests
mkdir -p "$out" "$here/corpus/keys"
seed() {  # name selector message text
  { printf "\\x$(printf %02x "$2")"; printf '%s' "$4" |
      protoc --proto_path="$proto" --encode="steward.v1.$3" \
        steward/v1/ticket.proto steward/v1/moderation.proto steward/v1/reports.proto \
        steward/v1/gameserver.proto steward/v1/vip.proto steward/v1/events.proto; } > "$out/$1"
}
seed ticket 0 SubmitTicketRequest 'idempotency_key: "k1" category: TICKET_CATEGORY_BUG subject: "Stuck" context { realm_id: "eu1" server_id: "eu1-s1" position { x: 1 y: 2 z: 3 } extra { key: "quest" value: "q7" } }'
seed ticket_report 0 SubmitTicketRequest 'idempotency_key: "k2" category: TICKET_CATEGORY_PLAYER_REPORT subject: "Cheater" reported_player_id: "p-2" context { realm_id: "eu1" }'
seed list 1 ListTicketsRequest 'status: TICKET_STATUS_NEW page_size: 10 page_token: "AAAAAAAAAAE"'
seed message 2 AddMessageRequest 'ticket_id: 1 body: "We fixed it" visibility: MESSAGE_VISIBILITY_PUBLIC await_player: true'
seed ban 3 IssueSanctionRequest 'idempotency_key: "s1" spec { type: SANCTION_TYPE_TEMP_BAN subject_id: "p-1" duration_ms: 3600000 reason: "Speed hack" policy_code: "cheating" scope { realm_id: "eu1" } }'
seed restrict 3 IssueSanctionRequest 'idempotency_key: "s2" spec { type: SANCTION_TYPE_RESTRICT subject_id: "p-3" features: "trade" reason: "RMT" }'
seed bulk 4 BulkIssueSanctionsRequest 'idempotency_key: "b1" specs { type: SANCTION_TYPE_MUTE subject_id: "p-4" reason: "Spam" duration_ms: 60000 } specs { type: SANCTION_TYPE_KICK subject_id: "p-5" reason: "AFK" }'
seed check 5 CheckPlayerRequest 'player_id: "p-1" realm_id: "eu1" device_hash: "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"'
seed appeal 6 FileAppealRequest 'sanction_id: 1 reason: APPEAL_REASON_INCORRECT text: "Not me"'
seed report 7 SubmitReportRequest 'idempotency_key: "r1" category: REPORT_CATEGORY_CHEATING subject_type: REPORT_SUBJECT_TYPE_PLAYER subject_id: "p-9" realm_id: "eu1" evidence { chat { speaker_id: "p-9" text: "lol" } }'
seed bug 8 SubmitBugRequest 'idempotency_key: "g1" title: "Crash" severity: BUG_SEVERITY_S1 realm_id: "eu1" crash_signature: "Crash at 0x7ffe in Draw" attachments { name: "a.log" content_type: "text/plain" data: "line" }'
seed announce 9 CreateAnnouncementRequest 'idempotency_key: "a1" spec { title: "Hi" body: "Maintenance" channel: ANNOUNCEMENT_CHANNEL_BANNER repeat_every_ms: 60000 }'
seed sanctions 10 ListSanctionsRequest 'subject_id: "p-1" active_only: true'
seed cases 11 ListCasesRequest 'state: CASE_STATE_OPEN page_token: "2:abc"'
seed purchase 12 RecordPurchaseRequest 'idempotency_key: "o1" amount_cents: 120000'
seed contact 13 SetContactRequest 'contact { email: "a@example.org" preferred_channel: "email" } birthday: "04-01"'
seed events 14 EventBatch 'realm_id: "eu1" server_id: "eu1-s1" events { type: "chat" player_id: "p-1" text: "cheap gold" } events { type: "login" player_id: "p-2" attributes { key: "device" value: "d1" } } events { type: "gold_gain" player_id: "p-1" value: 500 time_ms: 1 }'
seed rule 15 SaveRuleRequest 'rule { name: "spam" kind: RULE_KIND_PATTERN enabled: true event_types: "chat" group_by: "player" pattern: "cheap\\s+gold" threshold: 1 action { kind: ACTION_KIND_SANCTION sanction_type: SANCTION_TYPE_MUTE sanction_duration_ms: 60000 reason: "spam" } }'
seed rule_distinct 15 SaveRuleRequest 'rule { name: "multi" kind: RULE_KIND_DISTINCT enabled: true event_types: "login" group_by: "attr:device" distinct_of: "player" window_seconds: 3600 slide_seconds: 600 threshold: 2 }'
seed metrics 16 QueryMetricsRequest 'type: "login" realm_id: "eu1" resolution: RESOLUTION_HOUR'
# The events corpus is bare messages (no selector byte): fuzz_events reads
# each input both as an EventBatch and as a PublishEventsRequest.
mkdir -p "$here/corpus/events"
bare() {  # name message text
  printf '%s' "$3" | protoc --proto_path="$proto" --encode="steward.v1.$2" steward/v1/events.proto \
    > "$here/corpus/events/$1"
}
bare batch EventBatch 'realm_id: "eu1" server_id: "eu1-s1" events { type: "chat" player_id: "p-1" text: "cheap gold \344\270\255" } events { type: "login" player_id: "p-2" attributes { key: "device" value: "d1" } attributes { key: "ip" value: "h" } } events { type: "gold_gain" player_id: "p-1" value: -0.5 time_ms: 1700000000000 }'
bare publish PublishEventsRequest 'batch { realm_id: "eu1" server_id: "eu1-s2" events { type: "heartbeat" value: 120 } }'
# Unknown fields of each wire type (varint, fixed64, bytes, group, fixed32)
# around a known one, inside an event.
printf '\x0a\x02eu\x1a\x23\x12\x04chat\xa0\x06\x07\xa9\x06\x01\x02\x03\x04\x05\x06\x07\x08\xb2\x06\x01\xff\xbb\x06\x08\x01\xbc\x06\xc5\x06\x01\x02\x03\x04' \
  > "$here/corpus/events/unknown"
printf 'hello' > "$here/corpus/keys/str"
printf '\x00\x00\x00\x00\x00\x00\x00\x2a\x80\x00\x00\x00\x00\x00\x00\x01a\x00\xff\x00\x01' > "$here/corpus/keys/mixed"
printf '\xff\xff\xff' > "$here/corpus/keys/ff"
echo "seeds written to $here/corpus"
# The window_state corpus is edits to a state the harness saves itself
# (see fuzz_window_state.cc): chunk 0 intact, a few flipped bytes, a cut.
mkdir -p "$here/corpus/window_state"
printf '\x00' > "$here/corpus/window_state/intact"
printf '\x01\x40\x00\x5a\x00\x01\xff' > "$here/corpus/window_state/flip"
printf '\x02\xff\xff\x80' > "$here/corpus/window_state/cut"
printf 'SWS1garbage-that-is-not-a-chunk' > "$here/corpus/window_state/raw"
