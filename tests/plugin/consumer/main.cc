// Builds against the installed header and library only.
#include <cstdio>
#include <memory>

#include "steward/plugin.h"

int main() {
  steward::Options o;  // remote mode without a token: refused, cleanly
  o.realm_id = "eu1";
  o.server_id = "s1";
  std::unique_ptr<steward::Plugin> p;
  steward::Status s = steward::Plugin::Create(o, &p);
  std::printf("create: %d %s\n", static_cast<int>(s.code), s.message.c_str());
  return s.code == steward::StatusCode::kInvalidArgument ? 0 : 1;
}
