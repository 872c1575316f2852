// reflection_probe: what a generic gRPC client (grpcurl and the like) does
// first: list the services over server reflection, then fetch the schema of
// one. Prints "service <name>" lines and "package <name>".
//
// It is its own binary because the server side of reflection, linked into
// steward::services, registers the same message names in the protobuf pool.
#include <grpcpp/grpcpp.h>

#include <cstdio>

#include "google/protobuf/descriptor.pb.h"
#include "reflection_client.grpc.pb.h"

namespace refl = grpc::reflection::v1alpha;

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: reflection_probe ADDR SYMBOL\n");
    return 2;
  }
  auto stub = refl::ServerReflection::NewStub(
      grpc::CreateChannel(argv[1], grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
  auto stream = stub->ServerReflectionInfo(&ctx);
  refl::ServerReflectionRequest req;
  refl::ServerReflectionResponse resp;
  req.set_list_services("");
  if (!stream->Write(req) || !stream->Read(&resp)) return 1;
  for (const auto& s : resp.list_services_response().service()) {
    std::printf("service %s\n", s.name().c_str());
  }
  req.set_file_containing_symbol(argv[2]);
  if (!stream->Write(req) || !stream->Read(&resp)) return 1;
  for (const auto& bytes : resp.file_descriptor_response().file_descriptor_proto()) {
    google::protobuf::FileDescriptorProto file;
    if (!file.ParseFromString(bytes)) return 1;
    std::printf("file %s package %s\n", file.name().c_str(), file.package().c_str());
  }
  stream->WritesDone();
  grpc::Status st = stream->Finish();
  if (!st.ok()) {
    std::fprintf(stderr, "reflection failed: %s\n", st.error_message().c_str());
    return 1;
  }
  return 0;
}
