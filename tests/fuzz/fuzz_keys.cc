// Key encodings under arbitrary bytes: decoding never reads out of bounds
// or crashes, and whatever decodes re-encodes to the same bytes; encoded
// strings keep their order and round-trip.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "storage/keys.h"

using steward::storage::KeyReader;
using steward::storage::KeyWriter;
using steward::storage::PrefixSuccessor;

#define FUZZ_CHECK(cond) \
  if (!(cond)) std::abort()

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string in(reinterpret_cast<const char*>(data), size);
  // Decode a component sequence chosen by the input's own bytes.
  KeyReader r(in);
  KeyWriter back;
  for (size_t step = 0; step < 16 && !r.rest().empty(); ++step) {
    switch (static_cast<uint8_t>(in[step % in.size()]) % 4) {
      case 0:
        if (auto v = r.U64()) back.U64(*v); else step = 16;
        break;
      case 1:
        if (auto v = r.I64()) back.I64(*v); else step = 16;
        break;
      case 2:
        if (auto v = r.Byte()) back.Byte(*v); else step = 16;
        break;
      default:
        if (auto v = r.Str()) back.Str(*v); else step = 16;
        break;
    }
  }
  // What decoded is exactly the prefix of the input it consumed.
  FUZZ_CHECK(in.compare(0, back.key().size(), back.key()) == 0);

  // Strings round-trip and keep their order.
  size_t cut = size / 2;
  std::string a = in.substr(0, cut), b = in.substr(cut);
  std::string ka = KeyWriter().Str(a).U64(7).Release();
  std::string kb = KeyWriter().Str(b).U64(7).Release();
  KeyReader ra(ka);
  auto da = ra.Str();
  FUZZ_CHECK(da && *da == a && ra.U64() == 7u && ra.rest().empty());
  FUZZ_CHECK((a < b) == (ka < kb) || a == b);

  // The successor bounds every extension of the prefix.
  std::string succ = PrefixSuccessor(a);
  if (!succ.empty()) FUZZ_CHECK(a + b < succ && a < succ);
  return 0;
}
