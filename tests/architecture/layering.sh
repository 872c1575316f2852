#!/usr/bin/env bash
# The dependency rules of docs/architecture.md, checked on the sources (the
# CMake link lists check the libraries; this checks what each file includes
# and which column families it touches). Prints every breach; exit 1 if any.
set -uo pipefail
cd "$1/services"
bad=0
breach() { echo "layering: $*"; bad=1; }

domains="audit tickets moderation gameservers reports vip desk monitoring incidents operations"
# Another domain's headers a domain core may include: the APIs it calls
# (the same edges as its CMake link list).
declare -A may_include=(
  [audit]=""
  [gameservers]="services/audit/"
  [moderation]="services/audit/ services/gameservers/"
  [reports]="services/audit/ services/gameservers/ services/moderation/moderation.h"
  [tickets]="services/audit/ services/gameservers/ services/desk/knowledge.h"
  [vip]="services/audit/ services/tickets/tickets.h services/moderation/moderation.h"
  [desk]="services/audit/ services/tickets/ services/vip/vip.h services/incidents/incidents.h"
  [incidents]="services/audit/ services/gameservers/ services/tickets/tickets.h"
  [operations]="services/audit/"
  [monitoring]="services/audit/ services/gameservers/ services/moderation/moderation.h services/reports/reports.h"
)
# The folder that owns each column family; nothing else names it.
declare -A cf_owner=(
  [kTickets]=tickets [kTicketIndex]=tickets [kTicketMessages]=tickets
  [kAudit]=audit [kAuditIndex]=audit
  [kSanctions]=moderation [kModIndex]=moderation [kApprovals]=moderation [kAppeals]=moderation
  [kDirectives]=gameservers [kGameServers]=gameservers [kAnnouncements]=gameservers
  [kAnnouncementIndex]=gameservers
  [kDirectiveIndex]=gameservers
  [kReports]=reports [kCases]=reports [kBugs]=reports [kBugReports]=reports
  [kAttachments]=reports [kReportIndex]=reports
  [kVip]=vip [kCareTasks]=vip [kVipIndex]=vip
  [kRules]=monitoring [kAlerts]=monitoring [kMetrics]=monitoring [kMonIndex]=monitoring
  [kKnowledge]=desk [kKbIndex]=desk [kDesk]=desk
  [kIncidents]=incidents [kGrants]=incidents
  [kIdempotency]=common [kIdemIndex]=common [kMeta]="common audit"
)

core_files() { find "$1" -name '*.h' -o -name '*.cc' | grep -v '_grpc\.\(h\|cc\)$'; }

for d in $domains common; do
  for f in $(core_files "$d"); do
    # Cores are plain C++: no gRPC, no transport, no server (config).
    grep -nE '#include [<"](grpc|grpcpp)/|\.grpc\.pb\.h"|"services/(transport|server)/' "$f" |
      while read -r l; do breach "$f:$l (a core includes gRPC, transport or server)"; done
    # Another domain's headers only along the allowed edges.
    grep -noE '#include "services/[a-z]+/[^"]+"' "$f" | while IFS=: read -r n inc; do
      path=${inc#\#include \"}; path=${path%\"}
      other=$(echo "$path" | cut -d/ -f2)
      case "$other" in "$d"|common|transport|server) continue;; esac
      ok=0
      for a in ${may_include[$d]:-}; do [[ "$path" == $a* ]] && ok=1; done
      [ $ok = 1 ] || breach "$f:$n includes $path ($d may not depend on $other)"
    done
    # Time comes from the injected Clock.
    grep -nE 'absl::Now\(\)|GetCurrentTime|NowMs\(\) \{' "$f" | grep -v 'clock\.\(h\|cc\):' |
      while read -r l; do
        case "$f" in common/clock.*|common/log.cc) ;; *) breach "$f:$l (read time from the Clock)";; esac
      done
  done
  # Column families: only the owner names them.
  for f in $(find "$d" -name '*.h' -o -name '*.cc'); do
    # A line marked "layering: allow" is a reviewed exception (a migration).
    for cf in $(grep -v 'layering: allow' "$f" | grep -oE 'Cf::k[A-Za-z]+' | sort -u); do
      name=${cf#Cf::}
      owners=${cf_owner[$name]:-}
      [ -n "$owners" ] || { breach "$f names $cf, which has no owner in this table"; continue; }
      [[ " $owners " == *" $d "* ]] || breach "$f names $cf, which belongs to $owners"
    done
  done
done

# The plugin's remote mode needs no server code: only embedded.cc, the
# embedded mode's seam, may include the server or the store.
for f in ../plugin/src/*.cc ../plugin/src/*.h; do
  case "$f" in */embedded.cc) continue;; esac
  grep -nE '#include "(services/(server|tickets|moderation|gameservers|reports|vip|desk|monitoring|audit)/|storage/)' "$f" |
    while read -r l; do breach "$f:$l (the remote plugin would need server code)"; done
done

# The plugin's public headers see nothing of the server.
grep -rnE '#include "services/' ../plugin/include && breach "plugin/include includes services/"

[ $bad = 0 ] && echo "layering: ok"
exit $bad
